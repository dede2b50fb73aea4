/**
 * A one-line spinner on a terminal, for waits on a person (the device flow's approval, SPEC
 * §3): it redraws one line in place and clears it when stopped. Only ever started when stderr
 * is a terminal; pipes and log files get plain lines instead.
 */

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
/** Ten frames a second: smooth enough to look alive, cheap enough to ignore. */
export const SPINNER_FRAME_MS = 100;
const CLEAR_LINE = "\r\x1b[2K";
const MS_PER_S = 1000;
const S_PER_MIN = 60;

/** `4:05` for 245 s; whole seconds, rounded up so "0:00" only shows at the end. */
export function formatRemaining(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / MS_PER_S));
  const minutes = Math.floor(total / S_PER_MIN);
  const seconds = total % S_PER_MIN;
  return `${minutes}:${String(seconds).padStart(2, "0")}`;
}

export interface Spinner {
  stop(): void;
}

/** Draws `label()` after a spinning frame every `frameMs` on `write` until stopped. */
export function startSpinner(write: (text: string) => void, label: () => string, frameMs = SPINNER_FRAME_MS): Spinner {
  let frame = 0;
  const draw = () => write(`${CLEAR_LINE}${FRAMES[frame++ % FRAMES.length]} ${label()}`);
  draw();
  const timer = setInterval(draw, frameMs);
  timer.unref();
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      write(CLEAR_LINE);
    },
  };
}

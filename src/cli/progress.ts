/**
 * A download progress bar on stderr (SPEC §3 `call`): for long downloads only, when stderr is
 * a terminal and the body goes elsewhere (a file or a pipe). It draws when bytes arrive, never
 * from a timer, so a stalled download shows where it stalled and nothing keeps the process up.
 */

/** Downloads shorter than this are not "long": no bar flickers up for an ordinary API call. */
export const PROGRESS_DELAY_MS = 1_000;
/** Ten redraws a second at most: smooth enough, and cheap next to the download itself. */
export const PROGRESS_REDRAW_MS = 100;
const BAR_WIDTH = 24;
const CLEAR_LINE = "\r\x1b[2K";
const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];
const KIB = 1024;
const PERCENT = 100;

export interface Progress {
  /** `bytes` more arrived. */
  add(bytes: number): void;
  /** The download ended (or failed): clear the line if anything was drawn. */
  done(): void;
}

/** A bar for a body of `total` bytes (undefined when the server did not say). */
export function downloadProgress(write: (text: string) => void, total: number | undefined, now: () => number = Date.now): Progress {
  const started = now();
  let received = 0;
  let drawnAt: number | undefined;
  return {
    add(bytes) {
      received += bytes;
      const t = now();
      if (t - started < PROGRESS_DELAY_MS || (drawnAt !== undefined && t - drawnAt < PROGRESS_REDRAW_MS)) return;
      drawnAt = t;
      write(CLEAR_LINE + progressLine(received, total, (t - started) / 1000));
    },
    done() {
      if (drawnAt !== undefined) write(CLEAR_LINE);
    },
  };
}

/** `[#########---------------]  38% 3.8 MiB / 10.0 MiB  1.2 MiB/s`, or without a total `3.8 MiB  1.2 MiB/s`. */
export function progressLine(received: number, total: number | undefined, seconds: number): string {
  const rate = seconds > 0 ? `  ${formatBytes(received / seconds)}/s` : "";
  if (!total) return `${formatBytes(received)}${rate}`;
  const share = Math.min(1, received / total);
  const filled = Math.round(share * BAR_WIDTH);
  const percent = String(Math.floor(share * PERCENT)).padStart(3);
  return `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ${percent}% ${formatBytes(received)} / ${formatBytes(total)}${rate}`;
}

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= KIB && unit < UNITS.length - 1) {
    value /= KIB;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

import { TokenSmithError } from "../errors.js";
import type { Terminal } from "./passphrase.js";

/**
 * Terminal prompts for `tokensmith add`: a line with echo and a default, a yes/no question, and
 * a list filtered as you type (arrows move, Enter picks). Raw mode on the terminal of
 * passphrase.ts; its no-echo reader is used for secrets. Ctrl-C cancels with a usage error.
 */

const CTRL_C = "\u0003";
const CTRL_D = "\u0004";
const BACKSPACE = ["\u0008", "\u007f"];
const UP = ["\u001b[A", "\u001bOA"];
const DOWN = ["\u001b[B", "\u001bOB"];
/** Rows of the list shown at once. */
const VISIBLE = 8;

const cancelled = () => new TokenSmithError("usage_error", "cancelled: nothing was written", { hint: "run tokensmith add again, or pass flags (tokensmith add --help)" });

/** Feeds key presses (escape sequences whole, other input per character) to `onKey` until it returns true. */
function readKeys(terminal: Terminal, onKey: (key: string) => boolean | void): Promise<void> {
  const { input } = terminal;
  input.setRawMode?.(true);
  return new Promise<void>((resolve, reject) => {
    const finish = (err?: Error) => {
      input.removeListener("data", onData);
      input.removeListener("end", onEnd);
      input.setRawMode?.(false);
      input.pause();
      if (err) reject(err);
      else resolve();
    };
    const onEnd = () => finish(cancelled());
    const onData = (chunk: Buffer | string) => {
      const text = chunk.toString();
      const keys = text.match(/\u001b[[O][0-9;]*[A-Za-z~]|[\s\S]/gu) ?? [];
      for (const key of keys) {
        if (key === CTRL_C || key === CTRL_D) return finish(cancelled());
        try {
          if (onKey(key)) return finish();
        } catch (err) {
          return finish(err as Error);
        }
      }
    };
    input.on("data", onData);
    input.on("end", onEnd);
    input.resume();
  });
}

/** One line typed with echo; Enter on nothing gives `fallback`. */
export async function promptLine(terminal: Terminal, question: string, fallback = ""): Promise<string> {
  terminal.output.write(`${question}${fallback ? ` [${fallback}]` : ""}: `);
  let text = "";
  await readKeys(terminal, (key) => {
    if (key === "\r" || key === "\n") return true;
    if (BACKSPACE.includes(key)) {
      if (text) terminal.output.write("\b \b");
      text = text.slice(0, -1);
    } else if (key >= " " && !key.startsWith("\u001b")) {
      text += key;
      terminal.output.write(key);
    }
  });
  terminal.output.write("\n");
  return text.trim() || fallback;
}

/** y/N: yes only when the answer starts with y. */
export async function promptYesNo(terminal: Terminal, question: string): Promise<boolean> {
  return /^y/i.test(await promptLine(terminal, `${question} (y/N)`));
}

export interface Choice {
  value: string;
  /** What the list shows after the value. */
  label?: string;
}

/** The choices whose value or label contains `query` (case-insensitive), values starting with it first. */
export function filterChoices(choices: readonly Choice[], query: string): Choice[] {
  const q = query.trim().toLowerCase();
  if (!q) return [...choices];
  const hits = choices.filter((c) => c.value.toLowerCase().includes(q) || (c.label ?? "").toLowerCase().includes(q));
  return [...hits.filter((c) => c.value.toLowerCase().startsWith(q)), ...hits.filter((c) => !c.value.toLowerCase().startsWith(q))];
}

/**
 * A list filtered by what is typed: ↑/↓ move, Enter picks the highlighted row (a choice typed
 * out in full is picked even when off screen). The last line drawn is cleared and redrawn on
 * every key; what was picked stays on one line.
 */
export async function promptSelect(terminal: Terminal, question: string, choices: readonly Choice[], initial?: string): Promise<string> {
  const out = terminal.output;
  let query = "";
  let cursor = Math.max(0, choices.findIndex((c) => c.value === initial));
  let drawn = 0;
  const width = Math.max(...choices.map((c) => c.value.length));
  const clear = () => out.write(`${drawn ? `\u001b[${drawn}A` : ""}\r\u001b[J`);
  const draw = () => {
    clear();
    const shown = filterChoices(choices, query);
    cursor = Math.min(cursor, Math.max(0, shown.length - 1));
    const start = Math.max(0, Math.min(cursor - VISIBLE + 1, shown.length - VISIBLE));
    const rows = shown.slice(Math.max(0, start), Math.max(0, start) + VISIBLE).map((c, i) => {
      const at = Math.max(0, start) + i === cursor;
      return `${at ? "\u001b[7m>" : " "} ${c.label ? `${c.value.padEnd(width)}  ${c.label}` : c.value}${at ? "\u001b[0m" : ""}`;
    });
    const more = shown.length > VISIBLE ? [`  (${shown.length} matches; type to narrow, ↑/↓ to move)`] : shown.length ? [] : ["  (no match; backspace to widen)"];
    const lines = [`${question} (type to filter): ${query}`, ...rows, ...more];
    out.write(lines.join("\n"));
    drawn = lines.length - 1;
    return shown;
  };
  let shown = draw();
  let picked: string | undefined;
  await readKeys(terminal, (key) => {
    if (key === "\r" || key === "\n") {
      const exact = choices.find((c) => c.value.toLowerCase() === query.trim().toLowerCase());
      picked = shown[cursor]?.value ?? exact?.value;
      if (picked) return true;
      return;
    }
    if (UP.includes(key)) cursor = Math.max(0, cursor - 1);
    else if (DOWN.includes(key)) cursor = Math.min(shown.length - 1, cursor + 1);
    else if (BACKSPACE.includes(key)) {
      query = query.slice(0, -1);
      cursor = 0;
    } else if (key >= " " && !key.startsWith("\u001b")) {
      query += key;
      cursor = 0;
    }
    shown = draw();
  });
  clear();
  out.write(`${question}: ${picked}\n`);
  return picked as string;
}

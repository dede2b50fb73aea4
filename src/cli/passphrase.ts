import { closeSync, openSync } from "node:fs";
import { TokenSmithError } from "../errors.js";
import { registerSecret } from "../redact.js";

/**
 * The passphrase of `export` and `import` (SPEC §3): `$TOKENSMITH_PASSPHRASE`, else asked on
 * the terminal without echo. The terminal is opened directly (`/dev/tty`), not read from
 * stdin, because `import` reads the bundle from stdin and `export` may write it to stdout.
 */

/** The environment variable a script sets instead of typing. */
export const PASSPHRASE_ENV = "TOKENSMITH_PASSPHRASE";

const CTRL_C = "\u0003";
const CTRL_D = "\u0004";
const BACKSPACE = ["\u0008", "\u007f"];

/** What the prompt reads from and writes to: a terminal, or a stand-in in tests. */
export interface Terminal {
  input: NodeJS.ReadableStream & { setRawMode?(raw: boolean): unknown };
  output: { write(text: string): unknown };
  close(): void;
}

const cancelled = () => new TokenSmithError("usage_error", "cancelled: no passphrase was entered");

/** One line from the terminal with echo off; Ctrl-C cancels, backspace edits. */
export function promptHidden(terminal: Terminal, prompt: string): Promise<string> {
  const { input, output } = terminal;
  output.write(prompt);
  input.setRawMode?.(true);
  return new Promise<string>((resolve, reject) => {
    let text = "";
    const finish = (err?: Error) => {
      input.removeListener("data", onData);
      input.removeListener("end", onEnd);
      input.setRawMode?.(false);
      input.pause();
      output.write("\n");
      if (err) reject(err);
      else resolve(text);
    };
    const onEnd = () => finish(text ? undefined : cancelled());
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString()) {
        if (ch === "\r" || ch === "\n") return finish();
        if (ch === CTRL_C) return finish(cancelled());
        if (ch === CTRL_D) return finish(text ? undefined : cancelled());
        if (BACKSPACE.includes(ch)) text = text.slice(0, -1);
        else text += ch;
      }
    };
    input.on("data", onData);
    input.on("end", onEnd);
    input.resume();
  });
}

/**
 * The controlling terminal, or undefined when there is none (cron, CI, a pipe). node:tty is
 * loaded here, not at start: it would cost every `tokensmith token` a few milliseconds.
 */
export async function openTerminal(): Promise<Terminal | undefined> {
  const { ReadStream, WriteStream } = await import("node:tty");
  if (process.platform === "win32") {
    return process.stdin.isTTY ? { input: process.stdin, output: process.stderr, close: () => process.stdin.pause() } : undefined;
  }
  let readFd: number | undefined;
  try {
    readFd = openSync("/dev/tty", "r");
    const writeFd = openSync("/dev/tty", "w");
    const input = new ReadStream(readFd);
    const output = new WriteStream(writeFd);
    return {
      input,
      output,
      close: () => {
        input.destroy();
        output.destroy();
      },
    };
  } catch {
    if (readFd !== undefined) closeSync(readFd);
    return undefined;
  }
}

export interface PassphraseOptions {
  /** Ask twice and compare (export: a typo would make the bundle unreadable). */
  confirm: boolean;
  env?: NodeJS.ProcessEnv;
  /** Default: the controlling terminal. */
  terminal?: () => Terminal | undefined | Promise<Terminal | undefined>;
  /** Refuses a passphrase by throwing; on a terminal it runs before the confirmation is asked. */
  check?: (passphrase: string) => void;
}

/** The passphrase from the environment or the terminal; a usage error when neither has one. */
export async function readPassphrase(options: PassphraseOptions): Promise<string> {
  const fromEnv = (options.env ?? process.env)[PASSPHRASE_ENV];
  if (fromEnv) {
    registerSecret(fromEnv);
    options.check?.(fromEnv);
    return fromEnv;
  }
  const terminal = await (options.terminal ?? openTerminal)();
  if (!terminal) {
    throw new TokenSmithError("usage_error", "no passphrase: not on a terminal, and $TOKENSMITH_PASSPHRASE is not set", {
      hint: `set ${PASSPHRASE_ENV} (e.g. from a secret store) or run the command on a terminal`,
    });
  }
  try {
    const first = await promptHidden(terminal, "Passphrase: ");
    if (!first) throw cancelled();
    registerSecret(first);
    options.check?.(first);
    if (options.confirm && (await promptHidden(terminal, "Passphrase (again): ")) !== first) {
      throw new TokenSmithError("usage_error", "the two passphrases differ", { hint: "run the command again" });
    }
    return first;
  } finally {
    terminal.close();
  }
}

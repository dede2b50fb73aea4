import { TokenSmithError, redactedJSON, toTokenSmithError } from "../errors.js";
import { redact, redactMessage } from "../redact.js";
import { exitCodeOf } from "./exit-codes.js";

/** Global flags every command sees. */
export interface GlobalFlags {
  config?: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

/**
 * Where the CLI writes: data on stdout, diagnostics on stderr (SPEC §3). Injected so tests
 * can run commands in process.
 */
export interface Output {
  stdout(text: string): void;
  stderr(text: string): void;
  isTTY: boolean;
  /** Raw bytes to stdout (`call` bodies), resolving when more may be written; without it they go to `stdout` decoded as UTF-8. */
  stdoutBytes?(chunk: Uint8Array): Promise<void>;
  /** stderr is a terminal (spinners, prompts); undefined: assume it is when stdout is. */
  stderrIsTTY?: boolean;
}

/**
 * Thrown into a command that writes after stdout's reader went away (`tokensmith call …
 * --paginate | head`): the command stops where it is, quietly, as `head` asked.
 */
export class OutputClosed extends Error {
  constructor() {
    super("stdout was closed by its reader");
    this.name = "OutputClosed";
  }
}

/** Set when a write to stdout failed with EPIPE: nobody reads any more. */
let stdoutGone = false;

/**
 * Makes EPIPE on stdout an ordinary end rather than an unhandled 'error' event with a stack
 * trace. For the binary's entry only: a library never touches process streams.
 */
export function watchStdout(): void {
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
    stdoutGone = true;
    process.stdout.emit("drain");
  });
}

/** Writes bytes, resolving when more may be written; rejects with OutputClosed once the reader is gone. */
function writeStdoutBytes(chunk: Uint8Array): Promise<void> {
  if (stdoutGone) return Promise.reject(new OutputClosed());
  if (process.stdout.write(chunk)) return Promise.resolve();
  return new Promise<void>((resolve, reject) => process.stdout.once("drain", () => (stdoutGone ? reject(new OutputClosed()) : resolve())));
}

export const processOutput: Output = {
  stdout: (text) => {
    if (stdoutGone) throw new OutputClosed();
    process.stdout.write(text);
  },
  stderr: (text) => process.stderr.write(text),
  isTTY: !!process.stdout.isTTY,
  stdoutBytes: writeStdoutBytes,
  stderrIsTTY: !!process.stderr.isTTY,
};

export class Printer {
  constructor(
    readonly out: Output,
    readonly flags: GlobalFlags,
  ) {}

  /** Data: one JSON document with --json, else the text. */
  data(text: string, json?: unknown): void {
    if (this.flags.json) this.out.stdout(`${JSON.stringify(json ?? text, null, 2)}\n`);
    else this.out.stdout(text.endsWith("\n") ? text : `${text}\n`);
  }

  /** A diagnostic line on stderr (not with --quiet). */
  info(text: string): void {
    if (!this.flags.quiet) this.out.stderr(`${redactMessage(text)}\n`);
  }

  warn(text: string): void {
    if (!this.flags.quiet) this.out.stderr(`warning: ${redactMessage(text)}\n`);
  }

  verbose(text: string): void {
    if (this.flags.verbose) this.out.stderr(`${redactMessage(text)}\n`);
  }

  /** Report an error the way SPEC §3 says and return the exit code. Never a stack trace for user errors. */
  error(err: unknown): number {
    const e = toTokenSmithError(err);
    const code = exitCodeOf(e);
    if (this.flags.json) {
      this.out.stdout(`${JSON.stringify({ error: redactedJSON(e) }, null, 2)}\n`);
    } else {
      const where = e.connection ? ` [${e.connection}]` : "";
      this.out.stderr(`error${where}: ${redactMessage(e.message)}\n`);
      if (e.errorDescription && !e.message.includes(e.errorDescription)) this.out.stderr(`  server said: ${redact(e.errorDescription)}\n`);
      if (e.hint) this.out.stderr(`  hint: ${redactMessage(e.hint)}\n`);
    }
    if (e.code === "unexpected" || this.flags.verbose) {
      // A foreign error's stack holds its foreign message: untrusted text. Ours holds our words.
      const foreign = e.cause instanceof Error && !(e.cause instanceof TokenSmithError);
      const stack = e.cause instanceof Error ? e.cause.stack : e.stack;
      if (stack && (this.flags.verbose || e.code === "unexpected")) this.out.stderr(`${foreign ? redact(stack) : redactMessage(stack)}\n`);
    }
    return code;
  }
}

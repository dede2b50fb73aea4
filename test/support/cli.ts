import { spawn, type ChildProcessByStdio } from "node:child_process";
import { join } from "node:path";
import { Readable, type Writable } from "node:stream";
import { run } from "../../src/cli/main.js";

export const BIN = join(import.meta.dirname, "..", "..", "bin", "tokensmith.js");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in this process (fast); stdin is the given text. */
export async function cli(args: string[], stdin = ""): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await run(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), isTTY: false }, Readable.from([stdin]));
  return { code, stdout, stderr };
}

/** Runs the built binary in a child process, with its own environment (needs `npm test`'s build). */
export function cliProcess(args: string[], options: { env?: NodeJS.ProcessEnv; stdin?: string; cwd?: string } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
    cwd: options.cwd,
    stdio: ["pipe", "pipe", "pipe"],
  });
  const result = outputOf(child);
  child.stdin.end(options.stdin ?? "");
  return result;
}

/** What a child process printed, once it has closed; its code is -1 when a signal ended it. */
export function outputOf(child: ChildProcessByStdio<Writable | null, Readable, Readable>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** True when the text looks like a stack trace (user errors must never print one). */
export function hasStackTrace(text: string): boolean {
  return /\n\s+at .+:\d+:\d+/.test(text);
}

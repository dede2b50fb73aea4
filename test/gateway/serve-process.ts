import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { TestContext } from "node:test";

/** `tokensmith serve` from source in a child process (the CLI tests' `cliProcess` needs a build). */

const CHILD = join(import.meta.dirname, "fixtures", "cli-child.ts");
/** Starting a child with tsx takes a second or two on a busy machine; allow for a very busy one. */
const START_TIMEOUT_MS = 20_000;

export interface Serve {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  stderr(): string;
  stdout(): string;
  /** Resolves with all of stderr once it matches `pattern`. */
  waitFor(pattern: RegExp): Promise<string>;
}

/** `tokensmith serve --port 0 ARGS` from source in a child process, once it has printed where its keys are. */
export async function startServe(t: TestContext, home: string, args: string[]): Promise<Serve> {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, "serve", "--port", "0", ...args], {
    cwd: join(import.meta.dirname, "..", ".."),
    env: { PATH: process.env.PATH, HOME: home },
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.after(() => child.kill("SIGKILL"));
  let stderr = "";
  let stdout = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const waitFor = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`stderr never matched ${pattern}: ${stderr}`)), START_TIMEOUT_MS);
      const check = () => {
        if (!pattern.test(stderr)) return;
        clearTimeout(timer);
        child.stderr.off("data", check);
        resolve(stderr);
      };
      child.stderr.on("data", check);
      check();
    });
  await waitFor(/API keys?: .+\n/);
  const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)![1];
  return { child, url, exited, stderr: () => stderr, stdout: () => stdout, waitFor };
}

import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { stringify } from "yaml";
import type { DemoServer } from "../../src/demo/server.js";
import { BIN, type CliResult } from "../support/cli.js";
import { tmpDir } from "../support/demo.js";
import { demoLoginConfig } from "./login-config.js";

/** Helpers for the login tests that run the built binary (`node bin/tokensmith.js`). */

/** The stand-in browser, as `$BROWSER` names it: node running the fixture script. */
export const FAKE_BROWSER = `${process.execPath} ${join(import.meta.dirname, "fixtures", "browser.mjs")}`;

/**
 * Writes the demo server's config (file store in a temp folder) plus `demo-confidential`, the
 * authorization code flow with the client_secret_basic client; `patch` may change it further.
 */
export async function writeLoginConfig(t: TestContext, server: DemoServer, patch: (config: any) => void = () => {}): Promise<{ path: string; dir: string }> {
  const dir = await tmpDir(t);
  const config = demoLoginConfig(server, join(dir, "store"));
  patch(config);
  const path = join(dir, "tokensmith.yaml");
  await writeFile(path, stringify(config), { mode: 0o600 });
  return { path, dir };
}

/** A running CLI process that a test talks to: wait for its stderr, type on its stdin. */
export interface RunningCli {
  pid: number;
  /** Resolves with the stderr so far once it matches `pattern`. */
  stderrMatching(pattern: RegExp): Promise<string>;
  write(text: string): void;
  signal(name: NodeJS.Signals): void;
  done: Promise<CliResult>;
}

/** Starts the binary with only PATH, HOME and `env` in its environment; killed when the test ends. */
export function startCli(t: TestContext, args: string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const watchers = new Set<() => void>();
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => {
    stderr += d;
    for (const watch of watchers) watch();
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      for (const watch of watchers) watch();
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
  t.after(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  return {
    pid: child.pid!,
    stderrMatching: (pattern) =>
      new Promise((resolve, reject) => {
        const watch = () => {
          if (pattern.test(stderr)) {
            watchers.delete(watch);
            resolve(stderr);
          } else if (child.exitCode !== null) {
            watchers.delete(watch);
            reject(new Error(`the CLI exited (${child.exitCode}) before printing ${pattern}; stderr: ${stderr}`));
          }
        };
        watchers.add(watch);
        watch();
      }),
    write: (text) => child.stdin.write(text),
    signal: (name) => child.kill(name),
    done,
  };
}

/** The first http(s) URL on its own line in the text (what login prints for a person to open). */
export function printedUrl(text: string): string {
  const match = /^\s+(https?:\/\/\S+)$/m.exec(text);
  if (!match) throw new Error(`no URL printed in: ${text}`);
  return match[1];
}

/**
 * Child processes for multi-process store tests: `node --import tsx <module>` with its
 * arguments as JSON in $CHILD_ARGS, reporting newline-delimited JSON events on stdout.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
/** The default child: opens a store and runs one command (see fixtures/store-child.ts). */
export const STORE_CHILD = join(here, "fixtures", "store-child.ts");
/** A child that has not reported what a test waits for by then is stuck. */
const EVENT_TIMEOUT_MS = 25_000;

export interface ChildEvent {
  event: string;
  [field: string]: unknown;
}

export interface ChildProcessHandle {
  readonly pid: number;
  /** The next not yet consumed event named one of `names`; an unexpected "error" event rejects. */
  next(...names: string[]): Promise<ChildEvent>;
  /** Writes a line to the child's stdin. */
  send(line: string): void;
  signal(signal: NodeJS.Signals): void;
  /** Kills the child (resuming it first if stopped) and waits until it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** True once the child has exited by itself, false if it has not within `timeoutMs`. */
  exited(timeoutMs: number): Promise<boolean>;
}

/** `nodeArgs`: flags before the module; the default loads TypeScript through tsx, `[]` runs plain JavaScript. */
export function startChild(module: string | undefined, args: unknown, nodeArgs: string[] = ["--import", "tsx"]): ChildProcessHandle {
  const proc = spawn(process.execPath, [...nodeArgs, module ?? STORE_CHILD], {
    cwd: root,
    env: { ...process.env, CHILD_ARGS: JSON.stringify(args) },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const events: ChildEvent[] = [];
  let stderr = "";
  let exited = false;
  let notify = () => {};
  proc.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: proc.stdout }).on("line", (line) => {
    try {
      events.push(JSON.parse(line) as ChildEvent);
    } catch {
      stderr += `(stdout) ${line}\n`;
    }
    notify();
  });
  const exit = new Promise<void>((resolve) =>
    proc.on("exit", () => {
      exited = true;
      // Let the last stdout lines arrive before waiters decide the event never came.
      setImmediate(() => (notify(), resolve()));
    }),
  );

  return {
    pid: proc.pid ?? -1,
    next(...names) {
      return new Promise<ChildEvent>((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`child ${proc.pid}: no ${names.join("/")} within ${EVENT_TIMEOUT_MS} ms\n${stderr}`)), EVENT_TIMEOUT_MS);
        const done = (err?: Error, event?: ChildEvent) => {
          clearTimeout(timer);
          notify = () => {};
          if (err) reject(err);
          else resolve(event!);
        };
        notify = () => {
          const i = events.findIndex((e) => names.includes(e.event) || e.event === "error");
          if (i >= 0) {
            const [event] = events.splice(i, 1);
            if (event.event === "error" && !names.includes("error")) return done(new Error(`child ${proc.pid} failed: ${event.code}: ${event.message}\n${stderr}`));
            return done(undefined, event);
          }
          if (exited) done(new Error(`child ${proc.pid} exited without ${names.join("/")}\n${stderr}`));
        };
        notify();
      });
    },
    send: (line) => void proc.stdin.write(`${line}\n`),
    signal: (signal) => void proc.kill(signal),
    async kill(signal = "SIGKILL") {
      if (!exited) {
        proc.kill("SIGCONT");
        proc.kill(signal);
      }
      await exit;
    },
    async exited(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
      const done = await Promise.race([exit.then(() => true as const), late]);
      clearTimeout(timer);
      return done;
    },
  };
}

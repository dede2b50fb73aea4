import type { Command } from "commander";
import type { ConfigCache } from "../config/load.js";
import { toTokenSmithError } from "../errors.js";
import type { FetchLike } from "../protocol/types.js";
import { TokenSmith } from "../tokensmith.js";
import { exitCodeOf } from "./exit-codes.js";
import { pendingRoute } from "./route-save.js";
import { OutputClosed, Printer, type GlobalFlags, type Output } from "./output.js";

/** What a command's action gets: its printer and a lazily loaded TokenSmith. */
export interface CliContext {
  printer: Printer;
  flags: GlobalFlags;
  /**
   * Loads the config on first call; CLI processes never refresh in the background (§2.3).
   * `fetch` (given on the first call) is the transport: `call -v` traces through it.
   */
  tokensmith(options?: { fetch?: FetchLike }): Promise<TokenSmith>;
  /** Standard input, for `-d @-`, `import NAME` and `login --manual`. */
  stdin: NodeJS.ReadableStream;
  /**
   * `token`/`header`: call before serving connection `name`, and `served()` after, so that the
   * binary's next run can serve it on the fast path (src/cli/fast-token.ts). In-process runs
   * (no build id) keep no routes.
   */
  route(ts: TokenSmith, name: string): { served(): void };
}

export type Action = (ctx: CliContext, ...args: any[]) => Promise<number | void>;

/** Shared state of one CLI run: the loaded instance, closed at the end. */
export class CliRun {
  private instance?: Promise<TokenSmith>;
  exitCode = 0;
  /** A warning was printed (or would have been, but for --quiet): the fast path prints none, so no route is kept. */
  private warned = false;

  constructor(
    readonly out: Output,
    private readonly input?: NodeJS.ReadableStream,
    /** Validated configs kept between runs (the binary's; in-process runs go without). */
    private readonly configCache?: ConfigCache,
    /** The build's id (the binary's): token routes are kept for it. */
    private readonly buildId?: string,
  ) {}

  /** The given stream, else process.stdin, created only when a command reads it (a quicker start). */
  get stdin(): NodeJS.ReadableStream {
    return this.input ?? process.stdin;
  }

  /** Wrap a command action: build its context, run it, turn errors into exit codes. */
  action(fn: Action): (...args: any[]) => Promise<void> {
    return async (...args: any[]) => {
      const command = args[args.length - 1] as Command;
      const flags = command.optsWithGlobals() as GlobalFlags;
      const printer = new Printer(this.out, flags);
      const cliRun = this;
      const ctx: CliContext = {
        printer,
        flags,
        get stdin() {
          return cliRun.stdin;
        },
        tokensmith: (options = {}) => {
          this.instance ??= TokenSmith.load({
            fetch: options.fetch,
            config: flags.config,
            refreshAhead: false,
            configCache: this.configCache,
            onWarning: (message) => {
              this.warned = true;
              printer.warn(message);
            },
          }).then((ts) => {
            printer.verbose(`config: ${ts.configPath ?? "(object)"}`);
            return ts;
          });
          return this.instance;
        },
        route: (ts, name) => {
          const pending = this.buildId && !flags.verbose ? pendingRoute(ts, name, this.buildId, process.env) : undefined;
          return { served: () => pending?.save(this.warned) };
        },
      };
      try {
        this.exitCode = (await fn(ctx, ...args.slice(0, -1))) ?? 0;
      } catch (err) {
        // The reader of stdout left (`| head`): what it wanted was written; not a failure.
        this.exitCode = err instanceof OutputClosed ? 0 : reportError(printer, err);
      }
    };
  }

  async close(): Promise<void> {
    const ts = await this.instance?.catch(() => undefined);
    await ts?.close();
  }
}

/**
 * Prints the error and returns its exit code. With `--json` the error goes to stdout, which
 * may have been closed by its reader meanwhile: the exit code is the error's all the same.
 */
function reportError(printer: Printer, err: unknown): number {
  try {
    return printer.error(err);
  } catch (failed) {
    if (!(failed instanceof OutputClosed)) throw failed;
    return exitCodeOf(toTokenSmithError(err));
  }
}

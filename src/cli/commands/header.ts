import type { Command } from "commander";
import type { CliRun } from "../context.js";
import { parseSeconds } from "./args.js";

/** `tokensmith header NAME`: `Authorization: Bearer ...`, for `curl -H "$(tokensmith header billing)"`. */
export function registerHeader(program: Command, run: CliRun): void {
  program
    .command("header")
    .description("print the HTTP header line that carries the token")
    .argument("<name>", "connection name")
    .option("--min-ttl <seconds>", "the token must stay valid at least this long")
    .option("--force-refresh", "ask the server for a new token now")
    .action(
      run.action(async (ctx, name: string, opts: { minTtl?: string; forceRefresh?: boolean }) => {
        const ts = await ctx.tokensmith();
        const headers = await ts.connection(name).headers({ minTtl: parseSeconds(opts.minTtl, "--min-ttl"), forceRefresh: opts.forceRefresh });
        const [[key, value]] = Object.entries(headers);
        ctx.printer.data(`${key}: ${value}`, { name: key, value });
      }),
    );
}

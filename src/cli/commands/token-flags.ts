import type { Command } from "commander";
import { parseSeconds } from "./args.js";

/** `--min-ttl` and `--force-refresh`, the options of `token` and `header` (SPEC §3). */
export interface TokenFlags {
  minTtl?: string;
  forceRefresh?: boolean;
}

export function withTokenFlags(command: Command): Command {
  return command
    .option("--min-ttl <seconds>", "the token must stay valid at least this long")
    .option("--force-refresh", "ask the server for a new token now");
}

/** The flags as `token()` / `headers()` options; a bad `--min-ttl` is a usage error. */
export function tokenRequest(opts: TokenFlags): { minTtl?: number; forceRefresh?: boolean } {
  return { minTtl: parseSeconds(opts.minTtl, "--min-ttl"), forceRefresh: opts.forceRefresh };
}

import type { Command } from "commander";
import type { ConnectionStatus } from "../../lifecycle/status.js";
import { brokenStatus } from "../../lifecycle/status.js";
import { TokenSmithError } from "../../errors.js";
import type { CliRun } from "../context.js";

const isConfigError = (err: unknown) => err instanceof TokenSmithError && err.code === "config_invalid";

/** `tokensmith status [NAME]`: state per connection, never secrets. */
export function registerStatus(program: Command, run: CliRun): void {
  program
    .command("status")
    .description("show each connection's token state (never secrets)")
    .argument("[name]", "one connection (default: all)")
    .action(
      run.action(async (ctx, name: string | undefined) => {
        const ts = await ctx.tokensmith();
        const names = name ? [name] : ts.connectionNames();
        const statuses: ConnectionStatus[] = [];
        for (const n of names) {
          const connection = ts.connection(n);
          try {
            statuses.push(await connection.status());
          } catch (err) {
            // A connection whose settings don't resolve is one line of the listing; anything
            // else (an unreadable store) is the command's failure: never shown as "none" (§2.9).
            if (name || !isConfigError(err)) throw err;
            statuses.push(brokenStatus(n, err));
          }
        }
        // Which file is in use (SPEC §1), above the rows; the JSON document keeps its shape.
        const config = `config: ${ts.configPath ?? "(given as an object)"}`;
        ctx.printer.data([config, ...statuses.map(render)].join("\n"), name ? statuses[0] : statuses);
      }),
    );
}

/** How a removal reads in `status`. */
const REMOVED: Record<NonNullable<ConnectionStatus["removed"]>["reason"], string> = {
  logout: "by logout",
  revoked: "revoked",
  moved: "moved to another machine (export)",
};

function render(s: ConnectionStatus): string {
  const lines = [`${s.name}: ${s.state}${s.grant ? ` (${s.grant}${s.provider ? `, ${s.provider}` : ""})` : ""}`];
  if (s.expiresAt) lines.push(`  expires at     ${s.expiresAt.toISOString()} (in ${s.expiresIn} s)`);
  if (s.scopes.length) lines.push(`  scopes         ${s.scopes.join(" ")}`);
  if (s.grant) lines.push(`  refresh token  ${s.hasRefreshToken ? "yes" : "no"}`);
  if (s.lastRefresh) lines.push(`  last refresh   ${s.lastRefresh.toISOString()}`);
  if (s.grant) lines.push(`  token requests ${s.tokenRequests}`);
  if (s.sharedWith.length) lines.push(`  shares state with ${s.sharedWith.join(", ")}`);
  if (s.removed) lines.push(`  removed        ${REMOVED[s.removed.reason]} at ${s.removed.at.toISOString()}`);
  if (s.problem) lines.push(`  problem        ${s.problem}`);
  if (s.error?.hint) lines.push(`  hint           ${s.error.hint}`);
  return lines.join("\n");
}

import type { Command } from "commander";
import type { ConnectionStatus } from "../../lifecycle/status.js";
import type { CliRun } from "../context.js";

/** `tokensmith status [NAME]`: state per connection, never secrets. */
export function registerStatus(program: Command, run: CliRun): void {
  program
    .command("status")
    .description("show each connection's token state (never secrets)")
    .argument("[name]", "one connection (default: all)")
    .action(
      run.action(async (ctx, name: string | undefined) => {
        const ts = await ctx.tokensmith();
        // One connection: its failure is the command's. All: `ts.statuses()`, the library's one
        // policy (a connection whose settings don't resolve is a row; a store that cannot be
        // read fails the command, never shown as "none", §2.9).
        const statuses: ConnectionStatus[] = name ? [await ts.connection(name).status()] : await ts.statuses();
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
  if (s.clientAuth) lines.push(`  client auth    auto found ${s.clientAuth.method}; to pin it, set ${s.clientAuth.pin}`);
  if (s.sharedWith.length) lines.push(`  shares state with ${s.sharedWith.join(", ")}`);
  if (s.removed) lines.push(`  removed        ${REMOVED[s.removed.reason]} at ${s.removed.at.toISOString()}`);
  if (s.problem) lines.push(`  problem        ${s.problem}`);
  if (s.error?.hint) lines.push(`  hint           ${s.error.hint}`);
  return lines.join("\n");
}

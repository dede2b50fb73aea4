import type { Command } from "commander";
import { statusJson } from "../../lifecycle/documents.js";
import { formatRelative } from "../../lifecycle/health.js";
import type { ConnectionStatus } from "../../lifecycle/status.js";
import type { CliRun } from "../context.js";

/** `tokensmith status [NAME]`: state per connection, never secrets. */
export function registerStatus(program: Command, run: CliRun): void {
  program
    .command("status")
    .description("show each connection's health (never secrets)")
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
        const now = Date.now();
        // A command to paste names the config this run was given.
        const withConfig = ctx.flags.config ? ` --config ${shellWord(ctx.flags.config)}` : "";
        ctx.printer.data([config, ...statuses.map((s) => render(s, now, withConfig))].join("\n"), name ? statusJson(statuses[0]!) : statuses.map(statusJson));
      }),
    );
}

function render(s: ConnectionStatus, now: number, withConfig: string): string {
  const h = s.health;
  const lines = [`${s.name}: ${h.status}${s.grant ? ` (${s.grant}${s.provider ? `, ${s.provider}` : ""})` : ""}`, `  ${h.summary}`];
  if (s.expiresAt) lines.push(`  expires at     ${s.expiresAt.toISOString()} (${formatRelative(s.expiresAt.getTime(), now)})`);
  if (s.scopes.length) lines.push(`  scopes         ${s.scopes.join(" ")}`);
  if (s.grant) lines.push(`  refresh token  ${s.hasRefreshToken ? "yes" : "no"}`);
  if (s.detectedClientAuth) lines.push(`  client auth    auto found ${s.detectedClientAuth.method}; to pin it, set ${s.detectedClientAuth.pin}`);
  else if (s.clientAuth) lines.push(`  client auth    ${s.clientAuth}`);
  if (s.lastRefresh) lines.push(`  last refresh   ${s.lastRefresh.toISOString()} (${formatRelative(s.lastRefresh.getTime(), now)})`);
  if (s.grant) lines.push(`  token requests ${s.tokenRequests}`);
  if (s.sharedWith.length) lines.push(`  shares state with ${s.sharedWith.join(", ")}`);
  if (s.removed) lines.push(`  removed        ${REMOVED[s.removed.reason]} at ${s.removed.at.toISOString()} (${formatRelative(s.removed.at.getTime(), now)})`);
  const last = h.last_error;
  if (last && h.status !== "failing" && h.status !== "login_required") lines.push(`  last error     ${last.message}${last.retry_at ? ` (asked again ${formatRelative(Date.parse(last.retry_at), now)})` : ""}`);
  const hint = last?.hint ?? s.error?.hint ?? (s.problem && s.problem !== h.summary && !last ? s.problem : null);
  if (hint) lines.push(`  hint           ${hint}`);
  if (h.status === "login_required" && s.grant) lines.push(`  fix            ${loginHint(s, withConfig)}`);
  return lines.join("\n");
}

function loginHint(s: ConnectionStatus, withConfig: string): string {
  return `run \`${s.loginCommand ?? `tokensmith login ${s.name}`}${withConfig}\``;
}

/** A path as one shell word: as is when it is plain, else in single quotes. */
function shellWord(value: string): string {
  return /^[\w./~:@%+=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** How a removal reads in `status`. */
const REMOVED: Record<NonNullable<ConnectionStatus["removed"]>["reason"], string> = {
  logout: "by logout",
  revoked: "revoked",
  moved: "moved to another machine (export)",
};

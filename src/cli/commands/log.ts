import type { Command } from "commander";
import { formatRelative } from "../../lifecycle/health.js";
import { parseLimit, requestLogJson, type TokenRequestEntry, type TokenRequestLog } from "../../lifecycle/request-log.js";
import type { CliRun } from "../context.js";

/** `tokensmith log NAME [--limit N]`: the connection's recent token requests, newest first; no secrets. */
export function registerLog(program: Command, run: CliRun): void {
  program
    .command("log")
    .description("show a connection's recent token requests (time, grant, result, duration, error code; never secrets)")
    .argument("<name>", "connection name")
    .option("--limit <n>", "at most this many, newest first (1 to 50; default all kept)")
    .action(
      run.action(async (ctx, name: string, options: { limit?: string }) => {
        const limit = parseLimit(options.limit, "--limit", name);
        const ts = await ctx.tokensmith();
        const log = await ts.connection(name).history({ limit });
        ctx.printer.data(render(log, Date.now()), requestLogJson(log));
      }),
    );
}

const HEADINGS = ["TIME", "AGE", "GRANT", "RESULT", "DURATION", "CODE", "PROCESS"];

function render(log: TokenRequestLog, now: number): string {
  const shared = log.sharedWith.length > 0;
  const lines = [
    log.entries.length ? `${log.connection}: the last ${log.entries.length} ${log.entries.some((e) => e.result === "removed") ? "entr" + (log.entries.length === 1 ? "y" : "ies") + " (token requests and removals)" : "token request" + (log.entries.length === 1 ? "" : "s")}, newest first` : `${log.connection}: no token requests recorded yet`,
  ];
  if (shared) lines.push(`shares its token state with ${log.sharedWith.join(", ")}: their requests are listed too (CONNECTION says who asked)`);
  if (!log.entries.length) return lines.join("\n");
  const rows = log.entries.map((e) => cells(e, now, shared));
  const table = [shared ? [...HEADINGS, "CONNECTION"] : HEADINGS, ...rows];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table) lines.push(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  "));
  return lines.join("\n");
}

function cells(e: TokenRequestEntry, now: number, shared: boolean): string[] {
  const time = e.at.toISOString().replace(/\.\d{3}Z$/, "Z");
  const code = e.result === "removed" ? (e.reason ?? "") : [e.code, e.error && e.error !== e.code ? e.error : null, e.status ? `HTTP ${e.status}` : null].filter(Boolean).join(" ");
  const row = [time, formatRelative(e.at.getTime(), now), e.grant ?? "-", e.result, e.durationMs === null ? "-" : `${e.durationMs} ms`, code || "-", e.process];
  return shared ? [...row, e.connection] : row;
}

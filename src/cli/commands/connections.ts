import type { Command } from "commander";
import { connectionJson } from "../../lifecycle/documents.js";
import type { CliRun } from "../context.js";

/**
 * `tokensmith connections`: the configured connections. Reads the config only (no store) and
 * no `${env:}`/`${file:}` reference, so it works in a shell that has none of the secrets.
 */
export function registerConnections(program: Command, run: CliRun): void {
  program
    .command("connections")
    .description("list the configured connections")
    .action(
      run.action(async (ctx) => {
        const ts = await ctx.tokensmith();
        const rows = ts.connectionNames().map((name) => ts.connection(name).describe());
        const text = rows.length
          ? rows.map((r) => `${r.name}\t${r.grant}${r.provider ? `\t${r.provider}` : ""}${r.tokenUrl ? `\t${r.tokenUrl}` : ""}`).join("\n")
          : "(no connections configured)";
        ctx.printer.data(text, rows.map(connectionJson));
      }),
    );
}

import type { Command } from "commander";
import { loadConfig } from "../../config/load.js";
import { describeConnection } from "../../config/resolve.js";
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
        const loaded = await loadConfig({ config: ctx.flags.config });
        ctx.printer.verbose(`config: ${loaded.path ?? "(object)"}`);
        const rows = loaded.connectionNames().map((name) => {
          const conn = describeConnection(loaded, name);
          return { name, grant: conn.grantType ?? conn.grant, provider: conn.provider ?? null, tokenUrl: conn.tokenUrl ?? conn.issuer ?? null };
        });
        const text = rows.length
          ? rows.map((r) => `${r.name}\t${r.grant}${r.provider ? `\t${r.provider}` : ""}${r.tokenUrl ? `\t${r.tokenUrl}` : ""}`).join("\n")
          : "(no connections configured)";
        ctx.printer.data(text, rows);
      }),
    );
}

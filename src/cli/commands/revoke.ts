import type { Command } from "commander";
import { revokeJson } from "../../lifecycle/documents.js";
import type { CliRun } from "../context.js";

/** `tokensmith revoke NAME`: RFC 7009 at the server, then drop the local state. */
export function registerRevoke(program: Command, run: CliRun): void {
  program
    .command("revoke")
    .description("revoke the tokens at the server (RFC 7009), then drop the local state")
    .argument("<name>", "connection name")
    .option("--refresh-token", "revoke only the refresh token")
    .option("--access-token", "revoke only the access token")
    .option("--force", "drop the local state even if the server cannot be reached")
    .action(
      run.action(async (ctx, name: string, opts: { refreshToken?: boolean; accessToken?: boolean; force?: boolean }) => {
        const ts = await ctx.tokensmith();
        const only = opts.refreshToken ? "refresh_token" : opts.accessToken ? "access_token" : undefined;
        const result = await ts.connection(name).revoke({ only, force: opts.force });
        for (const warning of result.warnings) ctx.printer.warn(warning);
        const what = result.revoked.length ? result.revoked.map((r) => r.replace("_", " ")).join(" and ") : "nothing to revoke";
        ctx.printer.data(`revoked: ${what}; local state dropped`, revokeJson(name, result));
      }),
    );
}

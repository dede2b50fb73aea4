import type { Command } from "commander";
import { tokenJson } from "../../lifecycle/token-json.js";
import type { CliRun } from "../context.js";
import { tokenRequest, withTokenFlags, type TokenFlags } from "./token-flags.js";

/** `tokensmith token NAME`: the access token alone on stdout, for `$(tokensmith token billing)`. */
export function registerToken(program: Command, run: CliRun): void {
  const command = program.command("token").description("print the access token (cached, refreshed when expired)").argument("<name>", "connection name");
  withTokenFlags(command).action(
    run.action(async (ctx, name: string, opts: TokenFlags) => {
      const ts = await ctx.tokensmith();
      const route = ctx.route(ts, name);
      const info = await ts.connection(name).token(tokenRequest(opts));
      const expiresAt = info.expiresAt ? Math.floor(info.expiresAt.getTime() / 1000) : null;
      ctx.printer.verbose(
        `${name}: a token of type ${info.tokenType}, ${expiresAt === null ? "no expiry" : `expires ${new Date(expiresAt * 1000).toISOString()}`}, scope "${info.scope}"`,
      );
      ctx.printer.data(info.accessToken, tokenJson(name, info, Date.now()));
      route.served();
    }),
  );
}

import type { Command } from "commander";
import type { CliRun } from "../context.js";
import { tokenRequest, withTokenFlags, type TokenFlags } from "./token-flags.js";

/** `tokensmith header NAME`: `Authorization: Bearer ...`, for `curl -H "$(tokensmith header billing)"`. */
export function registerHeader(program: Command, run: CliRun): void {
  const command = program.command("header").description("print the HTTP header line that carries the token").argument("<name>", "connection name");
  withTokenFlags(command).action(
    run.action(async (ctx, name: string, opts: TokenFlags) => {
      const ts = await ctx.tokensmith();
      const route = ctx.route(ts, name);
      const headers = await ts.connection(name).headers(tokenRequest(opts));
      const [[key, value]] = Object.entries(headers);
      ctx.printer.data(`${key}: ${value}`, { connection: name, name: key, value });
      route.served();
    }),
  );
}

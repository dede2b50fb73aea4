import type { Command } from "commander";
import type { CliRun } from "../context.js";

/** `tokensmith logout NAME`: drop the local state only (the server is not told). */
export function registerLogout(program: Command, run: CliRun): void {
  program
    .command("logout")
    .description("drop the local token state (use revoke to also tell the server)")
    .argument("<name>", "connection name")
    .option("--discard-unreadable", "also remove a state the store cannot decrypt (status: unreadable; a lost or replaced store key)")
    .action(
      run.action(async (ctx, name: string, options: { discardUnreadable?: boolean }) => {
        const ts = await ctx.tokensmith();
        await ts.connection(name).logout({ discardUnreadable: options.discardUnreadable === true });
        ctx.printer.data(`logged out: ${name}`, { connection: name, logged_out: true });
      }),
    );
}

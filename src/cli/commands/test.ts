import type { Command } from "commander";
import { TokenSmithError } from "../../errors.js";
import type { CliRun } from "../context.js";
import { exitCodeOf } from "../exit-codes.js";

/** `tokensmith test NAME`: get a token (and call test_url) and explain what went wrong. */
export function registerTest(program: Command, run: CliRun): void {
  program
    .command("test")
    .description("obtain a token (and call test_url) and diagnose problems")
    .argument("<name>", "connection name")
    .option("--force-refresh", "ask the server again at once, whatever error is remembered")
    .action(
      run.action(async (ctx, name: string, opts: { forceRefresh?: boolean }) => {
        const ts = await ctx.tokensmith();
        const diagnosis = await ts.connection(name).test({ forceRefresh: opts.forceRefresh });
        const lines = diagnosis.steps.map((s) => `${s.ok ? "ok  " : "FAIL"} ${s.step}: ${s.detail}`);
        if (diagnosis.cause) lines.push(`likely cause: ${diagnosis.cause}`);
        if (diagnosis.hint) lines.push(`hint: ${diagnosis.hint}`);
        ctx.printer.data(lines.join("\n"), diagnosis);
        if (diagnosis.ok || !diagnosis.error) return 0;
        return exitCodeOf(new TokenSmithError(diagnosis.error.code, diagnosis.error.message, { status: diagnosis.error.status as number | undefined }));
      }),
    );
}

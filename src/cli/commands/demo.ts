import type { Command } from "commander";
import type { CliRun } from "../context.js";

/** `tokensmith demo`: a local authorization server and a guided tour (no account needed). */
export function registerDemo(program: Command, run: CliRun): void {
  program
    .command("demo")
    .description("start a local demo authorization server and take a guided tour (no account needed)")
    .option("--dir <path>", "where to write the demo config and token store", ".tokensmith-demo")
    .option("--serve", "keep the demo server running after the tour (Ctrl-C to stop)")
    .action(
      run.action(async (ctx, opts: { dir: string; serve?: boolean }) => {
        const { runTour } = await import("../../demo/tour.js");
        return runTour({ dir: opts.dir, serve: !!opts.serve, printer: ctx.printer });
      }),
    );
}

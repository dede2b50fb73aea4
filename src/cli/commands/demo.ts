import type { Command } from "commander";
import type { CliRun } from "../context.js";
import { parsePort } from "./serve.js";

/** `tokensmith demo`: a local authorization server and a guided tour (no account needed). */
export function registerDemo(program: Command, run: CliRun): void {
  program
    .command("demo")
    .description("start a local demo authorization server and take a guided tour (no account needed)")
    .option("--dir <path>", "where to write the demo config and token store", ".tokensmith-demo")
    .option("--serve", "keep a demo server running after the tour, with 60 s tokens (Ctrl-C to stop)")
    .option("--port <port>", "with --serve: the port the kept server listens on (default: any free port)")
    .action(
      run.action(async (ctx, opts: { dir: string; serve?: boolean; port?: string }) => {
        const port = parsePort(opts.port);
        const { runTour } = await import("../../demo/tour.js");
        return runTour({ dir: opts.dir, serve: !!opts.serve, port, printer: ctx.printer });
      }),
    );
}

import { Command } from "commander";
import { TokenSmithError } from "../../errors.js";
import { listPresets } from "../../providers/registry.js";
import { completionModel, completionScript, SHELLS, type Shell } from "../completion-scripts.js";
import type { CliRun } from "../context.js";
import { registerCommands } from "./index.js";

/**
 * `tokensmith completion bash|zsh|fish`: prints the shell's completion script (SPEC §3). The
 * script holds every command and flag; connection names it asks for at Tab time through the
 * hidden `tokensmith __complete connections` below.
 */
export function registerCompletion(program: Command, run: CliRun): void {
  program
    .command("completion")
    .description("print a shell completion script (commands, flags, connection names)")
    .argument("<shell>", SHELLS.join(", "))
    .addHelpText("after", "\nLoad it with: source <(tokensmith completion bash)   (zsh: the same; fish: tokensmith completion fish | source)")
    .action(
      run.action(async (ctx, shell: string) => {
        if (!(SHELLS as readonly string[]).includes(shell)) {
          throw new TokenSmithError("usage_error", `no completion for shell "${shell}"`, { hint: `one of: ${SHELLS.join(", ")}` });
        }
        // Every command, on a program of its own: this one has only the command being run.
        const full = new Command("tokensmith");
        for (const option of program.options) full.addOption(option);
        await registerCommands(full, run);
        const script = completionScript(shell as Shell, completionModel(full, listPresets().map((p) => p.name)));
        ctx.printer.out.stdout(script);
      }),
    );
}

/**
 * `tokensmith __complete connections`: the configured connection names, one a line, for the
 * completion scripts. Hidden, and silent: a config that cannot be read (missing, untrusted,
 * invalid) gives no names and exit 0, never an error in the middle of a command line.
 */
export function registerCompleteHelper(program: Command, run: CliRun): void {
  program
    .command("__complete", { hidden: true })
    .argument("<what>", "connections")
    .action(
      run.action(async (ctx, what: string) => {
        if (what !== "connections") return;
        let names: string[];
        try {
          names = (await ctx.tokensmith()).connectionNames();
        } catch {
          return;
        }
        if (names.length) ctx.printer.out.stdout(`${names.join("\n")}\n`);
      }),
    );
}

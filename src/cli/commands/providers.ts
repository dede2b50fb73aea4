import type { Command } from "commander";
import { TokenSmithError } from "../../errors.js";
import { getPreset, listPresets } from "../../providers/registry.js";
import type { CliRun } from "../context.js";

/** `tokensmith providers [NAME]`: the preset catalogue. Needs no config. */
export function registerProviders(program: Command, run: CliRun): void {
  program
    .command("providers")
    .description("list provider presets, or show one")
    .argument("[name]", "preset name")
    .action(
      run.action(async (ctx, name: string | undefined) => {
        if (!name) {
          const presets = listPresets();
          ctx.printer.data(presets.map((p) => `${p.name.padEnd(18)} ${p.title}`).join("\n"), presets);
          return;
        }
        const preset = getPreset(name);
        if (!preset) {
          throw new TokenSmithError("usage_error", `unknown provider "${name}"`, { hint: "run `tokensmith providers` to list them" });
        }
        const lines = Object.entries(preset).map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
        ctx.printer.data(lines.join("\n"), preset);
      }),
    );
}

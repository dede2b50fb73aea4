import type { Command } from "commander";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { findLocalConfig } from "../../config/load.js";
import { forgetConfig, trustConfig } from "../../config/trust.js";
import { TokenSmithError } from "../../errors.js";
import type { CliRun } from "../context.js";

/**
 * `tokensmith trust [PATH] [--revoke]`: trust (or forget) a config found in the working
 * folder (SPEC §1 Trust). PATH defaults to the working folder's config; a folder means the
 * config in it.
 */
export function registerTrust(program: Command, run: CliRun): void {
  program
    .command("trust")
    .description("trust the working folder's config (it decides where your secrets are sent); --revoke forgets it")
    .argument("[path]", "the config file, or the folder holding it (default: the working folder)")
    .option("--revoke", "forget the trust given to it")
    .action(
      run.action(async (ctx, path: string | undefined, opts: { revoke?: boolean }) => {
        const env = process.env;
        if (opts.revoke) {
          const target = await configPath(path, false);
          const result = await forgetConfig(target, env);
          const text = result.wasTrusted ? `no longer trusted: ${target}` : `${target} was not trusted`;
          ctx.printer.data(text, { path: target, trusted: false, was_trusted: result.wasTrusted });
          return;
        }
        const target = await configPath(path, true);
        const result = await trustConfig(target, env);
        ctx.printer.data(`trusted: ${target}\n(any change to it makes it untrusted again; tokensmith trust --revoke forgets it)`, {
          path: target,
          trusted: true,
          sha256: result.sha256,
        });
      }),
    );
}

/** The absolute config path PATH names: a file, or the config found in a folder (the working folder by default). */
async function configPath(path: string | undefined, mustExist: boolean): Promise<string> {
  const given = resolve(path ?? ".");
  const isDir = await stat(given).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) {
    if (mustExist) await stat(given).catch(() => notFound(`no file ${given}`));
    return given;
  }
  const found = await findLocalConfig(given);
  return found ?? notFound(`no tokensmith.yaml (or .yml, .json) in ${given}`);
}

function notFound(problem: string): never {
  throw new TokenSmithError("usage_error", problem, { hint: "name the config: tokensmith trust PATH" });
}

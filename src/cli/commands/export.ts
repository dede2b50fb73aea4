import type { Command } from "commander";
import { randomBytes } from "node:crypto";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { TokenSmithError } from "../../errors.js";
import { checkPassphraseStrength, MIN_PASSPHRASE_LENGTH } from "../../lifecycle/bundle.js";
import { internals } from "../../lifecycle/handle.js";
import type { CliRun } from "../context.js";
import { readPassphrase } from "../passphrase.js";

/** Owner-only: the bundle holds a refresh token, encrypted with nothing but a passphrase. */
const BUNDLE_FILE_MODE = 0o600;

/**
 * `tokensmith export NAME [-o FILE] [--copy]`: the login as a passphrase-encrypted bundle
 * (SPEC §3). A move unless `--copy`: the local state is tombstoned "moved".
 */
export function registerExport(program: Command, run: CliRun): void {
  program
    .command("export")
    .description("move a login to another machine: print it as a passphrase-encrypted bundle and drop it here (--copy keeps it)")
    .argument("<name>", "connection name")
    .option("-o, --output <file>", "write the bundle to FILE (mode 0600) instead of stdout")
    .option("--copy", "keep the local login too (risky with rotating refresh tokens: the first refresh invalidates the other copy)")
    .option("--weak-passphrase", `accept a passphrase shorter than ${MIN_PASSPHRASE_LENGTH} characters (it can be guessed offline)`)
    .action(
      run.action(async (ctx, name: string, opts: { output?: string; copy?: boolean; weakPassphrase?: boolean }) => {
        const ts = await ctx.tokensmith();
        const connection = ts.connection(name);
        await internals(connection).stateSetup(); // a broken config fails before anyone types a passphrase (secrets are not needed)
        const passphrase = await readPassphrase({
          confirm: true,
          check: (value) => checkPassphraseStrength(value, { allowWeak: opts.weakPassphrase, override: "--weak-passphrase" }),
        });
        // The file is prepared before the move, so a wrong path cannot lose the login.
        const output = opts.output ? await prepareOutput(opts.output) : undefined;
        let bundle: string;
        try {
          bundle = await connection.export({ passphrase, copy: opts.copy, weakPassphrase: opts.weakPassphrase });
        } catch (err) {
          await output?.abandon();
          throw err;
        }
        const what = opts.copy ? "copied (the local login is kept)" : "moved (the local login is dropped)";
        if (!output) {
          ctx.printer.data(bundle, JSON.parse(bundle));
          ctx.printer.info(`exported "${name}": ${what}; import it with \`tokensmith import NAME [FILE]\``);
          return;
        }
        await output.commit(bundle);
        ctx.printer.data(`exported "${name}" to ${opts.output}: ${what}`, { connection: name, file: opts.output, moved: !opts.copy });
      }),
    );
}

/** A temp file beside FILE, created now; `commit` renames it over FILE, `abandon` removes it. */
async function prepareOutput(path: string): Promise<{ commit(text: string): Promise<void>; abandon(): Promise<void> }> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  let handle;
  try {
    handle = await open(temp, "wx", BUNDLE_FILE_MODE);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    throw new TokenSmithError("usage_error", `cannot write the bundle to ${path} (${code})`, { hint: "choose a folder that exists and is writable", cause: err });
  }
  const file = handle;
  return {
    async commit(text) {
      try {
        await file.writeFile(text, "utf8");
        await file.sync();
        await file.close();
        await rename(temp, path);
      } catch (err) {
        throw new TokenSmithError("store_error", `the login was exported but writing ${path} failed (${(err as NodeJS.ErrnoException).code ?? "error"})`, {
          hint: `the bundle may still be in ${temp}`,
          cause: err,
        });
      }
    },
    async abandon() {
      await file.close().catch(() => {});
      await unlink(temp).catch(() => {});
    },
  };
}

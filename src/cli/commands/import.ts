import type { Command } from "commander";
import { readFile } from "node:fs/promises";
import { TokenSmithError } from "../../errors.js";
import { internals } from "../../lifecycle/handle.js";
import type { CliRun } from "../context.js";
import { readPassphrase } from "../passphrase.js";

/** `tokensmith import NAME [FILE]`: take over a login exported on another machine (SPEC §3). */
export function registerImport(program: Command, run: CliRun): void {
  program
    .command("import")
    .description("take over a login from a bundle made by `tokensmith export` (stdin when no FILE)")
    .argument("<name>", "connection name")
    .argument("[file]", "the bundle (default: stdin)")
    .action(
      run.action(async (ctx, name: string, file: string | undefined) => {
        const ts = await ctx.tokensmith();
        await internals(ts.connection(name)).setup(); // a broken config fails before anyone types a passphrase
        const bundle = file ? await readBundleFile(file) : await readAll(ctx.stdin);
        const passphrase = await readPassphrase({ confirm: false });
        const result = await ts.import(name, bundle, { passphrase });
        const expiry = result.expiresAt ? `access token valid until ${result.expiresAt.toISOString()}` : "no access token yet";
        ctx.printer.data(`imported "${name}" (exported as "${result.from}"): ${expiry}; refresh token ${result.hasRefreshToken ? "yes" : "no"}`, {
          connection: result.connection,
          from: result.from,
          replaced: result.replaced,
          has_refresh_token: result.hasRefreshToken,
          expires_at: result.expiresAt ? Math.floor(result.expiresAt.getTime() / 1000) : null,
        });
      }),
    );
}

async function readBundleFile(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new TokenSmithError("usage_error", `cannot read the bundle ${path} (${(err as NodeJS.ErrnoException).code ?? "error"})`, { cause: err });
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = "";
  for await (const chunk of stream) text += chunk.toString();
  if (!text.trim()) throw new TokenSmithError("usage_error", "no bundle on stdin", { hint: "tokensmith import NAME FILE, or pipe the bundle in" });
  return text;
}

import { existsSync } from "node:fs";
import { join } from "node:path";

/**
 * The config file names SPEC §1's lookup tries, and which of them a folder has: shared by
 * `loadConfig` and the CLI's `token` fast path, which must find the same file.
 */

export const CWD_NAMES = ["tokensmith.yaml", "tokensmith.yml", "tokensmith.json"];
export const XDG_NAMES = ["config.yaml", "config.yml", "config.json"];

/**
 * The candidate files present in `dir`, in order. Read synchronously: a few small checks,
 * and each async call is a round trip through libuv's thread pool, which a short CLI run waits for.
 */
export function presentIn(dir: string, names: readonly string[]): string[] {
  return names.map((name) => join(dir, name)).filter((path) => existsSync(path));
}

import { lstat, readdir, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { TokenSmithError } from "../errors.js";
import { linkExclusive, syncDir, TEMP_PREFIX, writeTemp } from "../fs-private.js";

/**
 * File primitives of the file store. Every durable file is written whole into a temp file
 * first and only then given its name, so a reader never sees a partial file and a crash
 * leaves the old state or the new one. Names of the form `<kind>-<n>` form numbered series
 * (record generations, lease epochs) in which the highest number is the current one and
 * a number, once taken, can only be taken by one writer (`link()` refuses an existing name).
 */

export { checkPrivateDir, DIR_MODE, ensureDir, FILE_MODE, linkExclusive, readPrivateFile, syncDir, writeTemp } from "../fs-private.js";

/** File name of the generated key inside the store folder. */
export const KEY_FILE_NAME = "tokensmith.key";

/** A temp file this old belongs to a writer that crashed: no write takes anywhere near this long. */
const STALE_TEMP_MS = 60 * 60 * 1000;

/** Atomically replaces `target` with `content` (temp file, rename). */
export async function replaceFile(folder: string, target: string, content: string, sync: boolean): Promise<void> {
  const temp = await writeTemp(folder, content, sync);
  try {
    await rename(temp, target);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
  if (sync) await syncDir(folder);
}

/** The numbers present in each series of a folder; empty when the folder does not exist. */
export interface Listing {
  gens: number[];
  leases: number[];
  temps: string[];
}

const SERIES = /^(gen|lease)-(\d{1,15})$/;

export async function listFolder(folder: string): Promise<Listing> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return seriesOf([]);
    throw err;
  }
  return seriesOf(names);
}

/** A folder's names sorted into its series (the CLI's `token` fast path lists synchronously). */
export function seriesOf(names: readonly string[]): Listing {
  const out: Listing = { gens: [], leases: [], temps: [] };
  for (const name of names) {
    const m = SERIES.exec(name);
    if (m) (m[1] === "gen" ? out.gens : out.leases).push(Number(m[2]));
    else if (name.startsWith(TEMP_PREFIX)) out.temps.push(name);
  }
  return out;
}

/** Path of generation `n` of the record kept in `folder`. */
export const genPath = (folder: string, n: number): string => join(folder, `gen-${n}`);

/**
 * The fenced write: names generation `n` exactly once (`link()` refuses a taken name), synced.
 * A writer whose listing was stale may land in a slot already pruned below a newer
 * generation; such a write is invisible (the highest generation wins) and is withdrawn.
 * Either way the write is refused with `store_error`, and a newer state is never replaced.
 */
export async function commitGeneration(folder: string, n: number, data: string): Promise<void> {
  const path = genPath(folder, n);
  const fenced = () => new TokenSmithError("store_error", `write rejected: generation ${n} exists or was superseded (the record changed while the lease was not held)`);
  try {
    const temp = await writeTemp(folder, data);
    if (!(await linkExclusive(temp, path))) throw fenced();
    await syncDir(folder);
    if (highest((await listFolder(folder)).gens) > n) {
      await unlink(path).catch(() => {});
      throw fenced();
    }
  } catch (err) {
    throw storeError("write", path, err);
  }
}

/** Highest number of a series, 0 when it is empty. */
export const highest = (series: number[]): number => series.reduce((a, b) => Math.max(a, b), 0);

/** Removes every member of a series below `keepFrom`, and temp files left by crashed writers. */
export async function prune(folder: string, kind: "gen" | "lease", keepFrom: number, now: number): Promise<void> {
  const listing = await listFolder(folder);
  const series = kind === "gen" ? listing.gens : listing.leases;
  for (const n of series) if (n < keepFrom) await unlink(join(folder, `${kind}-${n}`)).catch(() => {});
  for (const name of listing.temps) {
    const path = join(folder, name);
    const st = await lstat(path).catch(() => undefined);
    if (st && now - st.mtimeMs > STALE_TEMP_MS) await unlink(path).catch(() => {});
  }
}

/**
 * Wraps a file-system failure as `store_error`, naming the path (paths are not secret).
 * Anything else (our own errors, an abort reason) passes through unchanged.
 */
export function storeError(action: string, path: string, err: unknown): unknown {
  if (err instanceof TokenSmithError || !(err instanceof Error) || typeof (err as NodeJS.ErrnoException).errno !== "number") return err;
  const code = (err as NodeJS.ErrnoException).code ?? "unknown error";
  return new TokenSmithError("store_error", `file store: could not ${action} ${path} (${code})`, {
    hint: code === "EACCES" || code === "EPERM" ? "check the owner and permissions of the store folder" : undefined,
    cause: err,
  });
}

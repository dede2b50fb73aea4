import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { chmod, link, lstat, mkdir, open, readdir, rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { TokenSmithError } from "../errors.js";

/**
 * File primitives of the file store. Every durable file is written whole into a temp file
 * first and only then given its name, so a reader never sees a partial file and a crash
 * leaves the old state or the new one. Names of the form `<kind>-<n>` form numbered series
 * (record generations, lease epochs) in which the highest number is the current one and
 * a number, once taken, can only be taken by one writer (`link()` refuses an existing name).
 */

/** Owner-only: token state and keys are one user's secrets (SPEC §2.15). */
export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;
const TEMP_PREFIX = ".tmp-";
/** A temp file this old belongs to a writer that crashed: no write takes anywhere near this long. */
const STALE_TEMP_MS = 60 * 60 * 1000;

/** Creates a folder (and missing parents) owner-only. */
export async function ensureDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: DIR_MODE });
}

/** The effective uid, where the platform has one (not on Windows: ownership is not checked there). */
const euid = (): number | undefined => process.geteuid?.();

/**
 * Checks a folder that holds keys or token state (SPEC §2.15): it must belong to the current
 * user and be writable by nobody else, or anyone could plant a key or a record in it. A
 * folder readable by others is tightened to 0700. Anything else is `store_error` naming the fix.
 */
export async function checkPrivateDir(path: string, what = "store folder"): Promise<void> {
  const st = await stat(path);
  const uid = euid();
  if (!st.isDirectory()) throw new TokenSmithError("store_error", `the ${what} ${path} is not a folder`, { hint: `remove it, or point tokensmith at a folder of your own` });
  if (uid !== undefined && st.uid !== uid) {
    throw new TokenSmithError("store_error", `the ${what} ${path} belongs to another user (uid ${st.uid}); its keys and records cannot be trusted`, {
      hint: `use a folder of your own (store.dir), or, if it is yours, run: chown -R ${uid} ${path}`,
    });
  }
  if (uid !== undefined && (st.mode & 0o022) !== 0) {
    throw new TokenSmithError("store_error", `the ${what} ${path} is writable by other users, who could plant a key or a record in it`, {
      hint: `check its contents, then run: chmod ${DIR_MODE.toString(8)} ${path}`,
    });
  }
  if ((st.mode & 0o077) !== 0) await chmod(path, DIR_MODE).catch(() => {});
}

/**
 * Reads a key, record or lease file (SPEC §2.15) without following a symlink (O_NOFOLLOW) and
 * without blocking on a FIFO or device (O_NONBLOCK): only a regular file of the current user,
 * readable by nobody else, is read. ENOENT passes through for the caller; anything else wrong
 * with the file is `store_error` naming the fix.
 */
export async function readPrivateFile(path: string, what: string): Promise<string> {
  const refuse = (problem: string, hint = `remove it (${path})`) => new TokenSmithError("store_error", `the ${what} ${path} ${problem}`, { hint });
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ELOOP") throw refuse("is a symbolic link; tokensmith reads only regular files");
    throw err;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw refuse("is not a regular file");
    const uid = euid();
    if (uid !== undefined && st.uid !== uid) throw refuse(`belongs to another user (uid ${st.uid})`);
    if (uid !== undefined && (st.mode & 0o077) !== 0) throw refuse("is readable by other users", `run: chmod ${FILE_MODE.toString(8)} ${path}`);
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}

/** Writes `content` to a new owner-only temp file in `folder`, synced to disk; returns its path. */
export async function writeTemp(folder: string, content: string, sync = true): Promise<string> {
  const path = join(folder, `${TEMP_PREFIX}${randomBytes(8).toString("hex")}`);
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, FILE_MODE);
  try {
    await handle.writeFile(content, "utf8");
    if (sync) await handle.sync();
  } finally {
    await handle.close();
  }
  return path;
}

/** Makes a rename or link durable: the folder entry itself must reach the disk. */
export async function syncDir(folder: string): Promise<void> {
  // Windows cannot open a folder for fsync; NTFS journals folder entries itself.
  if (process.platform === "win32") return;
  const handle = await open(folder, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Gives a temp file the name `target` only if no file has that name: the compare-and-set
 * of the numbered series. Returns false when another writer took the name first.
 */
export async function linkExclusive(temp: string, target: string): Promise<boolean> {
  try {
    await link(temp, target);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    await unlink(temp).catch(() => {});
  }
}

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
  const out: Listing = { gens: [], leases: [], temps: [] };
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return out;
    throw err;
  }
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

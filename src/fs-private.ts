import { randomBytes } from "node:crypto";
import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats } from "node:fs";
import { chmod, link, mkdir, open, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { TokenSmithError } from "./errors.js";

/**
 * Private files: the file store's records and keys, and the gateway's generated key. Every
 * durable file is written whole into a temp file first and only then given its name, so a
 * reader never sees a partial file and a crash leaves the old state or the new one; a file
 * planted by someone else (another owner, a symlink, a FIFO, a loose mode) is never read.
 * Shared by store/ and gateway/, so neither reaches into the other.
 */

/** Owner-only: token state and keys are one user's secrets (SPEC §2.15). */
export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;
/** Temp files start so (the file store's pruning recognises them by it). */
export const TEMP_PREFIX = ".tmp-";

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
  const problem = privateDirProblem(path, st, what);
  if (problem) throw problem;
  if ((st.mode & 0o077) !== 0) await chmod(path, DIR_MODE).catch(() => {});
}

/** What is wrong with a folder for keys or token state (the `store_error` to throw), or undefined. */
export function privateDirProblem(path: string, st: Stats, what = "store folder"): TokenSmithError | undefined {
  const uid = euid();
  if (!st.isDirectory()) return new TokenSmithError("store_error", `the ${what} ${path} is not a folder`, { hint: `remove it, or point tokensmith at a folder of your own` });
  if (uid !== undefined && st.uid !== uid) {
    return new TokenSmithError("store_error", `the ${what} ${path} belongs to another user (uid ${st.uid}); its keys and records cannot be trusted`, {
      hint: `use a folder of your own (store.dir), or, if it is yours, run: chown -R ${uid} ${path}`,
    });
  }
  if (uid !== undefined && (st.mode & 0o022) !== 0) {
    return new TokenSmithError("store_error", `the ${what} ${path} is writable by other users, who could plant a key or a record in it`, {
      hint: `check its contents, then run: chmod ${DIR_MODE.toString(8)} ${path}`,
    });
  }
  return undefined;
}

/**
 * Reads a key, record or lease file (SPEC §2.15) without following a symlink (O_NOFOLLOW) and
 * without blocking on a FIFO or device (O_NONBLOCK): only a regular file of the current user,
 * readable by nobody else, is read. ENOENT passes through for the caller; anything else wrong
 * with the file is `store_error` naming the fix.
 */
export async function readPrivateFile(path: string, what: string): Promise<string> {
  let handle;
  try {
    handle = await open(path, PRIVATE_OPEN_FLAGS);
  } catch (err) {
    throw symlinkProblem(path, what, err);
  }
  try {
    const problem = privateFileProblem(path, await handle.stat(), what);
    if (problem) throw problem;
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}

/** {@link readPrivateFile}, synchronously (the CLI's `token` fast path): the same checks, the same errors. */
export function readPrivateFileSync(path: string, what: string): string {
  let fd: number;
  try {
    fd = openSync(path, PRIVATE_OPEN_FLAGS);
  } catch (err) {
    throw symlinkProblem(path, what, err);
  }
  try {
    const problem = privateFileProblem(path, fstatSync(fd), what);
    if (problem) throw problem;
    return readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
}

/** No symlink followed (O_NOFOLLOW), no blocking on a FIFO or device (O_NONBLOCK). */
const PRIVATE_OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

const refusal = (path: string, what: string, problem: string, hint = `remove it (${path})`) => new TokenSmithError("store_error", `the ${what} ${path} ${problem}`, { hint });

function symlinkProblem(path: string, what: string, err: unknown): unknown {
  return (err as NodeJS.ErrnoException).code === "ELOOP" ? refusal(path, what, "is a symbolic link; tokensmith reads only regular files") : err;
}

/** What is wrong with an opened key, record or lease file (the `store_error` to throw), or undefined. */
function privateFileProblem(path: string, st: Stats, what: string): TokenSmithError | undefined {
  if (!st.isFile()) return refusal(path, what, "is not a regular file");
  const uid = euid();
  if (uid !== undefined && st.uid !== uid) return refusal(path, what, `belongs to another user (uid ${st.uid})`);
  if (uid !== undefined && (st.mode & 0o077) !== 0) return refusal(path, what, "is readable by other users", `run: chmod ${FILE_MODE.toString(8)} ${path}`);
  return undefined;
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

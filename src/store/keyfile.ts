import { randomBytes } from "node:crypto";
import { lstat } from "node:fs/promises";
import { dirname } from "node:path";
import { TokenSmithError } from "../errors.js";
import { parseKey } from "./sealed.js";
import { ensureDir, linkExclusive, readPrivateFile, syncDir, writeTemp } from "./file-io.js";

/**
 * The file store's default encryption key (SPEC §2.15): a random key in a file beside the
 * records, created on first use. The key is written whole into a temp file and then linked
 * to the key file's name, which fails if the name exists — so of two first runs racing, one
 * creates the key, and both then read the same one back. Nobody ever sees a half-written key.
 * A key is never created while records sealed under some key exist: that is a lost key, and
 * a fresh one would only hide it (§2.15).
 */

/** AES-256 wants 32 bytes. */
const KEY_BYTES = 32;

export interface KeyFileOptions {
  /** When the store holds encrypted records, a missing key file is a lost key, not a first run: the hint to give. */
  lostKey?: () => Promise<string | undefined>;
}

/** What to do about a lost key file: restore it, name it, or give its records up. */
export function lostKeyHint(path: string, recordsDir: string): string {
  return (
    `restore ${path} from a backup, or set store.key to the key that wrote the records (older keys in store.old_keys); ` +
    `to give the records up, move ${recordsDir} aside (a new key is then created), ` +
    "or set a new store.key and run `tokensmith logout NAME --discard-unreadable` per connection"
  );
}

/** Reads the key file at `path`, creating it first (0600, in a 0700 folder) if absent. */
export async function loadOrCreateKeyFile(path: string, options: KeyFileOptions = {}): Promise<Buffer> {
  const folder = dirname(path);
  // The common case: the key exists. Only a first run pays for creating one.
  if (await exists(path)) return readKeyFile(path);
  const lost = await options.lostKey?.();
  if (lost) throw new TokenSmithError("store_error", `file store: the key file ${path} is missing, but the store holds records encrypted under a key`, { hint: lost });
  try {
    await ensureDir(folder);
    const temp = await writeTemp(folder, `${randomBytes(KEY_BYTES).toString("base64")}\n`);
    if (await linkExclusive(temp, path)) await syncDir(folder);
  } catch (err) {
    throw new TokenSmithError("store_error", `file store: could not create the key file ${path} (${(err as NodeJS.ErrnoException).code ?? "error"})`, {
      hint: "check the owner and permissions of the store folder, or set store.key",
      cause: err,
    });
  }
  return readKeyFile(path);
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Reads and checks an existing key file. */
export async function readKeyFile(path: string): Promise<Buffer> {
  let text: string;
  try {
    text = await readPrivateFile(path, "key file");
  } catch (err) {
    if (err instanceof TokenSmithError) throw err;
    throw new TokenSmithError("store_error", `file store: could not read the key file ${path} (${(err as NodeJS.ErrnoException).code ?? "error"})`, {
      hint: "check the owner and permissions of the store folder",
      cause: err,
    });
  }
  try {
    return parseKey(text, `key file ${path}`);
  } catch (err) {
    throw new TokenSmithError("store_error", `file store: the key file ${path} does not hold a 32-byte base64 key`, {
      hint: "restore it from a backup; without it the records it encrypted cannot be read",
      cause: err,
    });
  }
}

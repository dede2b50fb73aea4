import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";

/**
 * Files of the CLI's caches in `$XDG_CACHE_HOME/tokensmith/` (folder 0700, files 0600): a
 * JSON value sealed with AES-256-GCM under a key the caller derives from what the value
 * stands for (the build, the config's path and exact text, ...). A file another user owns
 * or others may write is never used; one that does not open under the key is a miss; one
 * that cannot be written is no error. Shared by the config cache and the token routes.
 */

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The value sealed in `file` under `key`, or undefined (missing, untrusted, another key, not JSON). */
export function readSealed<T>(file: string, key: Buffer): T | undefined {
  const sealed = readTrusted(file);
  if (!sealed || sealed.length <= IV_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, IV_BYTES));
    decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const plain = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    return JSON.parse(plain.toString("utf8")) as T;
  } catch {
    return undefined; // Sealed under another key: a miss.
  }
}

/** Seals `value` (JSON) into `file` in `dir`, whole or not at all. */
export function writeSealed(dir: string, file: string, key: Buffer, value: unknown): void {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
  writeQuietly(dir, file, Buffer.concat([iv, cipher.getAuthTag(), body]));
}

/** The file's bytes if this user owns it and nobody else can write it; undefined otherwise (or missing). */
function readTrusted(file: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== process.getuid!() || (st.mode & 0o022) !== 0) return undefined;
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Whole or not at all (a temp file renamed over); a cache that cannot be written is no error. */
function writeQuietly(dir: string, file: string, data: Buffer): void {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(temp, data, { mode: 0o600 });
    renameSync(temp, file);
  } catch {
    try {
      unlinkSync(temp);
    } catch {
      // Never written.
    }
  }
}

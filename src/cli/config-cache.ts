import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ConfigCache } from "../config/load.js";
import { xdgCacheHome } from "../config/paths.js";
import type { ConfigFile } from "../config/schema.js";

/**
 * The CLI's cache of validated config files (docs/decisions.md, CLI start-up): parsing the
 * YAML and building the zod schema were a third of a cached `tokensmith token` run.
 *
 * One file per config path in `$XDG_CACHE_HOME/tokensmith/` (0700, files 0600), sealed with
 * AES-256-GCM under a key derived from the build, the config's path and its exact text: a
 * reader of the cache learns nothing the config file does not already say (it holds no
 * second plaintext copy of an inline secret), and a changed file, or another build of
 * tokensmith, simply fails to open it (a miss: parse and validate, then replace it). A file
 * not owned by this user, or writable by others, is never used. Only what JSON carries
 * exactly is kept, so a hit gives the same config that validation gave.
 */

const IV_BYTES = 12;
const TAG_BYTES = 16;
const LABEL = "tokensmith config cache v1";

/** The cache, for the build identified by `buildId`; undefined when there is no user id to check files against (Windows). */
export function configCache(buildId: string, env: NodeJS.ProcessEnv = process.env): ConfigCache | undefined {
  if (typeof process.getuid !== "function") return undefined;
  const dir = join(xdgCacheHome(env), "tokensmith");
  const keyOf = (path: string, text: string) => createHash("sha256").update(`${LABEL}\0${buildId}\0${path}\0`).update(text).digest();
  const fileOf = (path: string) => join(dir, `config-${createHash("sha256").update(path).digest("hex").slice(0, 32)}.cache`);
  return {
    get(path, text) {
      const sealed = readTrusted(fileOf(path));
      if (!sealed || sealed.length <= IV_BYTES + TAG_BYTES) return undefined;
      try {
        const decipher = createDecipheriv("aes-256-gcm", keyOf(path, text), sealed.subarray(0, IV_BYTES));
        decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
        const plain = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
        return JSON.parse(plain.toString("utf8")) as ConfigFile;
      } catch {
        return undefined; // Another text, path or build: a miss.
      }
    },
    set(path, text, config) {
      if (!isExactJson(config)) return;
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", keyOf(path, text), iv);
      const body = Buffer.concat([cipher.update(JSON.stringify(config), "utf8"), cipher.final()]);
      writeQuietly(dir, fileOf(path), Buffer.concat([iv, cipher.getAuthTag(), body]));
    },
  };
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

/** True when JSON round-trips the value exactly: strings, finite numbers (not -0), booleans, null, arrays and plain objects. */
export function isExactJson(value: unknown): boolean {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value) && !Object.is(value, -0);
  if (Array.isArray(value)) return value.every(isExactJson);
  if (typeof value !== "object" || Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.keys(value).every((key) => key !== "__proto__") && Object.values(value).every(isExactJson);
}

import { createHash } from "node:crypto";
import { join } from "node:path";
import type { ConfigCache } from "../config/load.js";
import { xdgCacheHome } from "../config/paths.js";
import type { ConfigFile } from "../config/schema.js";
import { readSealed, writeSealed } from "./sealed-cache.js";

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

const LABEL = "tokensmith config cache v1";

/** The cache, for the build identified by `buildId`; undefined when there is no user id to check files against (Windows). */
export function configCache(buildId: string, env: NodeJS.ProcessEnv = process.env): ConfigCache | undefined {
  if (typeof process.getuid !== "function") return undefined;
  const dir = join(xdgCacheHome(env), "tokensmith");
  const keyOf = (path: string, text: string) => createHash("sha256").update(`${LABEL}\0${buildId}\0${path}\0`).update(text).digest();
  const fileOf = (path: string) => join(dir, `config-${createHash("sha256").update(path).digest("hex").slice(0, 32)}.cache`);
  return {
    // Another text, path or build: a miss.
    get: (path, text) => readSealed<ConfigFile>(fileOf(path), keyOf(path, text)),
    set(path, text, config) {
      if (isExactJson(config)) writeSealed(dir, fileOf(path), keyOf(path, text), config);
    },
  };
}

/** True when JSON round-trips the value exactly: strings, finite numbers (not -0), booleans, null, arrays and plain objects. */
export function isExactJson(value: unknown): boolean {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value) && !Object.is(value, -0);
  if (Array.isArray(value)) return value.every(isExactJson);
  if (typeof value !== "object" || Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.keys(value).every((key) => key !== "__proto__") && Object.values(value).every(isExactJson);
}

import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Script } from "node:vm";

/**
 * Starts the bundled CLI (dist/cli-bundle/main.cjs) with V8's code cache, so that
 * `tokensmith token` starts fast: compiling the bundle and its cold functions is half of a
 * run's own cost, and Node 20 has no built-in compile cache (`module.enableCompileCache` is
 * Node 22). The cache is kept beside the bundle (same owner, same trust as the code itself)
 * and is keyed by a hash of the bundle's text: V8 checks only its own version, flags and the
 * source's length, so a rebuilt bundle of the same length must not get the old code. The
 * cache is an optimisation only: if it cannot be read or written, the CLI runs as before.
 *
 * The bundle's `import()` calls (optional packages: oidc-provider, database drivers) are
 * rewritten at build time into calls of `__bundleImport`, which this module provides: in
 * Node 20 a script's own `import()` needs vm's experimental main-context loader, which also
 * stops working for functions that come from a code cache.
 */

/** Set (to anything) to run without the code cache, like Node 22's own compile cache switch. */
const DISABLE_ENV = "NODE_DISABLE_COMPILE_CACHE";
/** sha1's digest size; the cache file starts with the digest of the bundle it was made from. */
const DIGEST_BYTES = 20;
/** The CommonJS wrapper (plus the bundle's `import()`), on its own line so line numbers stay right. */
const WRAPPER_HEAD = "(function (exports, require, module, __filename, __dirname, __bundleImport) {\n";
const WRAPPER_TAIL = "\n})";

export interface LoadedBundle {
  /** What the bundle assigned to `module.exports`. */
  exports: Record<string, unknown>;
  /** The bundle's sha1 digest, hex: what its code cache (and the CLI's config cache) is made for. */
  digest: string;
  /** True when V8 took the cached code (nothing was compiled from source up front). */
  cacheUsed: boolean;
  /**
   * Writes the cache if there was none (or V8 refused it). Called after a run, so that it
   * also holds the functions the run compiled; does nothing on its second call.
   */
  saveCache(): void;
}

export interface LoadOptions {
  /** Defaults to `<file>.cache`. */
  cacheFile?: string;
  /** Defaults to on unless NODE_DISABLE_COMPILE_CACHE is set. */
  useCache?: boolean;
  /** The bundle's sha1 digest (hex) when known already (written into launch.cjs at build time); computed otherwise. */
  digest?: string;
}

/** The digest of dist/cli-bundle/main.cjs, put here by scripts/bundle.mjs (hashing 0.7 MB was ~1 ms of every run). */
declare const __BUNDLE_DIGEST__: string | undefined;

/** Evaluates a CommonJS bundle like `require` would, through a code cache. */
export function loadBundle(file: string, options: LoadOptions = {}): LoadedBundle {
  const cacheFile = options.cacheFile ?? `${file}.cache`;
  const useCache = options.useCache ?? !process.env[DISABLE_ENV];
  const text = readFileSync(file);
  const digest = options.digest ? Buffer.from(options.digest, "hex") : createHash("sha1").update(text).digest();
  const cachedData = useCache ? readCache(cacheFile, digest) : undefined;
  const script = new Script(WRAPPER_HEAD + text.toString("utf8") + WRAPPER_TAIL, {
    filename: file,
    lineOffset: -1,
    cachedData,
  });
  const cacheUsed = cachedData !== undefined && !script.cachedDataRejected;
  let pending = useCache && !cacheUsed;
  const module = { exports: {} as Record<string, unknown> };
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, dirname(file), importBeside(file));
  return {
    exports: module.exports,
    digest: digest.toString("hex"),
    cacheUsed,
    saveCache() {
      if (!pending) return;
      pending = false;
      writeCache(cacheFile, () => [digest, script.createCachedData()]);
    },
  };
}

function readCache(cacheFile: string, digest: Buffer): Buffer | undefined {
  let data: Buffer;
  try {
    data = readFileSync(cacheFile);
  } catch {
    return undefined;
  }
  if (data.length <= DIGEST_BYTES || !data.subarray(0, DIGEST_BYTES).equals(digest)) return undefined;
  return data.subarray(DIGEST_BYTES);
}

/**
 * Whole or not at all (a temp file renamed over), so a concurrent run never reads half a
 * cache. The temp file is opened first: in a read-only install, V8 is not asked to serialise
 * code that cannot be kept.
 */
function writeCache(cacheFile: string, parts: () => Buffer[]): void {
  const temp = `${cacheFile}.${process.pid}.tmp`;
  let fd: number;
  try {
    fd = openSync(temp, "w");
  } catch {
    return; // A read-only install: run uncached, as before.
  }
  try {
    try {
      for (const part of parts()) writeSync(fd, part);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, cacheFile);
  } catch {
    try {
      unlinkSync(temp);
    } catch {
      // Already gone.
    }
  }
}

/**
 * `import()` for code in `file`: relative specifiers resolve beside it; package names resolve
 * from here, which is beside it too once built (both live in dist/cli-bundle/).
 */
function importBeside(file: string): (specifier: string) => Promise<unknown> {
  const base = pathToFileURL(file);
  return (specifier) => import(specifier.startsWith("./") || specifier.startsWith("../") ? new URL(specifier, base).href : specifier);
}

/** The binary's entry when the bundle is built: run the CLI, then keep its compiled code. */
export async function launch(argv: string[], file?: string): Promise<void> {
  const built = typeof __BUNDLE_DIGEST__ === "string" && file === undefined ? __BUNDLE_DIGEST__ : undefined;
  const bundle = loadBundle(file ?? fileURLToPath(new URL("./main.cjs", import.meta.url)), { digest: built });
  const main = bundle.exports.main as (argv: string[], options: { buildId: string }) => Promise<void>;
  await main(argv, { buildId: bundle.digest });
  bundle.saveCache();
}

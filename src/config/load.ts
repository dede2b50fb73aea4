import { basename, dirname, join, resolve } from "node:path";
import { TokenSmithError } from "../errors.js";
import { configError } from "./issues.js";
import { CWD_NAMES, presentIn, XDG_NAMES } from "./locate.js";
import { absolutePath, xdgConfigHome } from "./paths.js";
import { readOwnFile } from "./own-file.js";
import { checkConnection } from "./resolve.js";
import type { ConfigSource, LoadedConfig } from "./loaded.js";
import type { ConfigFile } from "./schema.js";
import { checkSections } from "./sections.js";
import { isTrusted, untrustedError } from "./trust.js";

export type { ConfigSource, LoadedConfig } from "./loaded.js";

/**
 * Finding and loading the config file (SPEC §1): the first found wins, no merging. The whole
 * file is validated at once, and every connection is checked for what it needs, but
 * `${env:}`/`${file:}` references are left for `resolveConnection`, so a job that uses one
 * connection never needs another connection's secrets.
 *
 * Trust (SPEC §1): a config found in the working folder is used only once `tokensmith trust`
 * recorded it with its current content, by the library as by the CLI (the risk is the same: a
 * cloned repository's config). One named by the `config` option or $TOKENSMITH_CONFIG, or the
 * user's own in the XDG folder, is chosen by the user and needs no trust. Every config file,
 * wherever found, is refused when another user owns it or may write it (`config_untrusted`).
 */


export interface LoadOptions {
  /** A config file path (relative to `cwd`), or the config itself as an object. */
  config?: string | object;
  /** Folder for `./tokensmith.yaml` and relative paths; default `process.cwd()`. */
  cwd?: string;
  /** Environment for $TOKENSMITH_CONFIG, XDG folders and `~`; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** @internal Keeps validated config files between runs (the CLI's, src/cli/config-cache.ts). */
  cache?: ConfigCache;
  /**
   * @internal How the file named by `config` was first found, when it is read again (a
   * reload): a working-folder file keeps its trust check (SPEC §1), whoever names its path.
   */
  foundAs?: ConfigSource;
}

/**
 * Validated config files kept between processes, by file path and exact text: a hit stands
 * for parsing and validating that text (YAML and the zod schema are then never loaded). Only
 * valid files are kept, so every error is the one validation gives.
 */
export interface ConfigCache {
  get(path: string, text: string): ConfigFile | undefined;
  set(path: string, text: string, config: ConfigFile): void;
}

/** A validated config whose references are not resolved yet. */

/** The one candidate file present in `dir`, undefined if none; two or more is an error. */
async function findOne(dir: string, names: string[]): Promise<string | undefined> {
  const found = presentIn(dir, names);
  if (found.length > 1) {
    throw configError("", `more than one config file in ${dir}: ${found.map((p) => basename(p)).join(", ")}`, {
      hint: "keep one of them (tokensmith never merges config files)",
    });
  }
  return found[0];
}

async function readConfigFile(path: string, how: string): Promise<{ text: string; sha256: string }> {
  try {
    return await readOwnFile(path, "config file");
  } catch (cause) {
    if (cause instanceof TokenSmithError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    const problem = code === "ENOENT" ? `config file ${path} not found` : `cannot read config file ${path} (${code})`;
    throw configError("", problem, { hint: `it was named by ${how}`, cause });
  }
}

/**
 * The schema's verdict on a value. YAML and zod are loaded on first use (`import()`), so that
 * a run answered from the cache never loads them.
 */
async function validate(value: unknown, path?: string): Promise<ConfigFile> {
  const { validateConfig } = await import("./validate.js");
  return validateConfig(value, path);
}

async function validateText(text: string, path: string, cache?: ConfigCache): Promise<ConfigFile> {
  const cached = cache?.get(path, text);
  if (cached) return cached;
  const { parseConfigText } = await import("./parse.js");
  const config = await validate(parseConfigText(text, path), path);
  cache?.set(path, text, config);
  return config;
}

function build(config: ConfigFile, source: ConfigSource, dir: string, env: NodeJS.ProcessEnv, path?: string): LoadedConfig {
  const connections = config.connections ?? {};
  const loaded: LoadedConfig = {
    path,
    dir,
    source,
    store: config.store ?? undefined,
    gateway: config.gateway ?? undefined,
    proxy: config.proxy,
    tls: config.tls,
    connections,
    connectionNames: () => Object.keys(connections),
  };
  for (const name of loaded.connectionNames()) checkConnection(loaded, name);
  checkSections(loaded, env);
  return loaded;
}

async function fromFile(path: string, source: ConfigSource, env: NodeJS.ProcessEnv, how: string, cache?: ConfigCache): Promise<LoadedConfig> {
  const { text, sha256 } = await readConfigFile(path, how);
  // Checked before parsing: nothing of an untrusted file is acted on.
  if (source === "cwd" && !(await isTrusted(path, sha256, env))) throw await untrustedError(path, env);
  return { ...build(await validateText(text, path, cache), source, dirname(path), env, path), sha256 };
}

/** The config file in `dir` that the working-folder lookup would find (`tokensmith.yaml`, `.yml`, `.json`), if any. */
export function findLocalConfig(dir: string): Promise<string | undefined> {
  return findOne(dir, CWD_NAMES);
}

/** The config, found in SPEC §1's order, validated whole; `config_invalid` when none is found or it is wrong. */
export async function loadConfig(options: LoadOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const cwd = resolve(options.cwd ?? process.cwd());
  if (options.config !== undefined && typeof options.config === "object") {
    return build(await validate(options.config), "object", cwd, env);
  }
  if (typeof options.config === "string") {
    const source = options.foundAs === "cwd" ? "cwd" : "option";
    return fromFile(absolutePath(options.config, cwd, env), source, env, source === "cwd" ? "the working folder" : "--config", options.cache);
  }
  if (env.TOKENSMITH_CONFIG) {
    return fromFile(absolutePath(env.TOKENSMITH_CONFIG, cwd, env), "env", env, "$TOKENSMITH_CONFIG", options.cache);
  }
  const local = await findLocalConfig(cwd);
  if (local) return fromFile(local, "cwd", env, "the working folder", options.cache);
  const xdgDir = join(xdgConfigHome(env), "tokensmith");
  const user = await findOne(xdgDir, XDG_NAMES);
  if (user) return fromFile(user, "xdg", env, "the XDG config folder", options.cache);
  throw configError("", "no tokensmith config found", {
    hint:
      `looked for --config, $TOKENSMITH_CONFIG (not set), ${join(cwd, "tokensmith.yaml")} (or .yml/.json) and ` +
      `${join(xdgDir, "config.yaml")}; run \`tokensmith demo\` to write a working example, or create tokensmith.yaml`,
  });
}

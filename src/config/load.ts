import { access, readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { configError } from "./issues.js";
import { parseConfigText } from "./parse.js";
import { absolutePath, xdgConfigHome } from "./paths.js";
import { checkConnection } from "./resolve.js";
import type { ConnectionConfig, GatewaySection, StoreSection } from "./schema.js";
import { checkSections } from "./sections.js";
import { validateConfig } from "./validate.js";

/**
 * Finding and loading the config file (SPEC §1): the first found wins, no merging. The whole
 * file is validated at once, and every connection is checked for what it needs, but
 * `${env:}`/`${file:}` references are left for `resolveConnection`, so a job that uses one
 * connection never needs another connection's secrets.
 */

/** Where the config came from: the `config` option (a path or an object), $TOKENSMITH_CONFIG, the working folder, or the XDG config folder. */
export type ConfigSource = "option" | "object" | "env" | "cwd" | "xdg";

export interface LoadOptions {
  /** A config file path (relative to `cwd`), or the config itself as an object. */
  config?: string | object;
  /** Folder for `./tokensmith.yaml` and relative paths; default `process.cwd()`. */
  cwd?: string;
  /** Environment for $TOKENSMITH_CONFIG, XDG folders and `~`; default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** A validated config whose references are not resolved yet. */
export interface LoadedConfig {
  /** Absolute path of the config file; undefined when the config was given as an object. */
  path?: string;
  /** The folder relative `${file:}` and `store.dir` paths are taken from. */
  dir: string;
  source: ConfigSource;
  store?: StoreSection;
  gateway?: GatewaySection;
  connections: Record<string, ConnectionConfig>;
  /** Connection names in file order. */
  connectionNames(): string[];
}

const CWD_NAMES = ["tokensmith.yaml", "tokensmith.yml", "tokensmith.json"];
const XDG_NAMES = ["config.yaml", "config.yml", "config.json"];

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** The one candidate file present in `dir`, undefined if none; two or more is an error. */
async function findOne(dir: string, names: string[]): Promise<string | undefined> {
  const found: string[] = [];
  for (const name of names) if (await exists(join(dir, name))) found.push(join(dir, name));
  if (found.length > 1) {
    throw configError("", `more than one config file in ${dir}: ${found.map((p) => basename(p)).join(", ")}`, {
      hint: "keep one of them (tokensmith never merges config files)",
    });
  }
  return found[0];
}

async function readConfigFile(path: string, how: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const problem = code === "ENOENT" ? `config file ${path} not found` : `cannot read config file ${path} (${code})`;
    throw configError("", problem, { hint: `it was named by ${how}`, cause });
  }
  return parseConfigText(text, path);
}

function build(value: unknown, source: ConfigSource, dir: string, env: NodeJS.ProcessEnv, path?: string): LoadedConfig {
  const config = validateConfig(value, path);
  const connections = config.connections ?? {};
  const loaded: LoadedConfig = {
    path,
    dir,
    source,
    store: config.store ?? undefined,
    gateway: config.gateway ?? undefined,
    connections,
    connectionNames: () => Object.keys(connections),
  };
  for (const name of loaded.connectionNames()) checkConnection(loaded, name);
  checkSections(loaded, env);
  return loaded;
}

async function fromFile(path: string, source: ConfigSource, env: NodeJS.ProcessEnv, how: string): Promise<LoadedConfig> {
  return build(await readConfigFile(path, how), source, dirname(path), env, path);
}

/** The config, found in SPEC §1's order, validated whole; `config_invalid` when none is found or it is wrong. */
export async function loadConfig(options: LoadOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  if (options.config !== undefined && typeof options.config === "object") {
    return build(options.config, "object", cwd, env);
  }
  if (typeof options.config === "string") {
    return fromFile(absolutePath(options.config, cwd, env), "option", env, "--config");
  }
  if (env.TOKENSMITH_CONFIG) {
    return fromFile(absolutePath(env.TOKENSMITH_CONFIG, cwd, env), "env", env, "$TOKENSMITH_CONFIG");
  }
  const local = await findOne(cwd, CWD_NAMES);
  if (local) return fromFile(local, "cwd", env, "the working folder");
  const xdgDir = join(xdgConfigHome(env), "tokensmith");
  const user = await findOne(xdgDir, XDG_NAMES);
  if (user) return fromFile(user, "xdg", env, "the XDG config folder");
  throw configError("", "no tokensmith config found", {
    hint:
      `looked for --config, $TOKENSMITH_CONFIG (not set), ${join(cwd, "tokensmith.yaml")} (or .yml/.json) and ` +
      `${join(xdgDir, "config.yaml")}; run \`tokensmith demo\` to write a working example, or create tokensmith.yaml`,
  });
}

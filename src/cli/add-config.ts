import { existsSync } from "node:fs";
import { chmod, rename, stat, unlink, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { basename, dirname, extname, join, relative, resolve, sep } from "node:path";
import { findLocalConfig, loadConfig } from "../config/load.js";
import { absolutePath, xdgConfigHome } from "../config/paths.js";
import { isTrusted, trustConfig } from "../config/trust.js";
import { readOwnFile } from "../config/own-file.js";
import YAML from "yaml";
import { TokenSmithError } from "../errors.js";

/**
 * The config side of `tokensmith add` (SPEC §3): which file, and writing one connection into
 * it with the yaml Document API, so the user's comments, order and formatting stay as they
 * were. Every write goes to a temporary file beside the target, is validated by the loader
 * every command uses, then renamed over it: nothing is written when validation fails.
 */

/** Owner-only: a config names where secrets live, and may hold some. */
const FILE_MODE = 0o600;

export interface ConfigTarget {
  /** Absolute path of the config to write. */
  path: string;
  /** It exists already (an update), or `add` creates it. */
  exists: boolean;
  /** Found in the working folder: trusted by content (SPEC §1 Trust). */
  local: boolean;
}

/** The config `add` writes: the one every command would use (SPEC §1 order), else ./tokensmith.yaml or the --config path. */
export async function configTarget(configFlag: string | undefined, cwd: string, env: NodeJS.ProcessEnv): Promise<ConfigTarget> {
  if (configFlag) {
    const path = absolutePath(configFlag, cwd, env);
    return { path, exists: existsSync(path), local: false };
  }
  if (env.TOKENSMITH_CONFIG) {
    const path = absolutePath(env.TOKENSMITH_CONFIG, cwd, env);
    return { path, exists: existsSync(path), local: false };
  }
  const local = await findLocalConfig(cwd);
  if (local) return { path: local, exists: true, local: true };
  const xdgDir = join(xdgConfigHome(env), "tokensmith");
  for (const name of ["config.yaml", "config.yml", "config.json"]) {
    if (existsSync(join(xdgDir, name))) return { path: join(xdgDir, name), exists: true, local: false };
  }
  return { path: join(cwd, "tokensmith.yaml"), exists: false, local: true };
}

/** The connection's fields in the order they are written. */
export type ConnectionFields = Record<string, string | string[] | Record<string, string>>;

/** The connection names in the config at `path` (none when it does not exist yet). */
export async function existingConnections(target: ConfigTarget): Promise<string[]> {
  if (!target.exists) return [];
  const doc = YAML.parseDocument(await readConfigText(target.path));
  const connections = doc.toJS()?.connections;
  return connections && typeof connections === "object" ? Object.keys(connections) : [];
}

async function readConfigText(path: string): Promise<string> {
  try {
    return (await readOwnFile(path, "config file")).text;
  } catch (cause) {
    if (cause instanceof TokenSmithError) throw cause;
    throw new TokenSmithError("config_invalid", `cannot read config file ${path} (${(cause as NodeJS.ErrnoException).code})`, { hint: "name a config file you can read with --config", cause });
  }
}

/** The new text of the config with connection `name` set to `fields` (replacing it with `force`). */
export async function configWithConnection(before: string | undefined, path: string, name: string, fields: ConnectionFields, force: boolean): Promise<string> {
  const { isMap } = YAML;
  const doc = YAML.parseDocument(before ?? "");
  if (doc.errors.length) {
    throw new TokenSmithError("config_invalid", `${path}: ${doc.errors[0].message.split("\n")[0]}`, { hint: "fix the file's syntax first, then run tokensmith add again" });
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new TokenSmithError("config_invalid", `${path}: the config is not a map of sections`, { hint: "it must hold `connections:` at the top level" });
  }
  const connections = doc.get("connections");
  if (connections !== undefined && connections !== null && !isMap(connections)) {
    throw new TokenSmithError("config_invalid", `${path}: connections must be a map of connection names`, { hint: "fix the file, then run tokensmith add again" });
  }
  if (doc.hasIn(["connections", name]) && !force) {
    throw new TokenSmithError("usage_error", `connection "${name}" already exists in ${path}`, { hint: "choose another name, or pass --force to replace it" });
  }
  if (connections === undefined || connections === null) doc.set("connections", doc.createNode({}));
  const node = doc.createNode(fields);
  // Lists and maps of one line each (scopes: [a, b]), as a person writes them.
  for (const item of node.items) if (YAML.isCollection(item.value)) item.value.flow = true;
  doc.setIn(["connections", name], node);
  if (extname(path).toLowerCase() === ".json") return `${JSON.stringify(doc.toJS(), null, 2)}\n`;
  if (before === undefined) {
    doc.commentBefore = " tokensmith config, written by `tokensmith add` (tokensmith providers lists the presets)";
    return doc.toString();
  }
  return keepText(before, YAML.parseDocument(before).toString(), doc.toString());
}

/**
 * The yaml library keeps comments and order, but not every space: it writes `a: 1   # note` as
 * `a: 1 # note`. So the lines the edit changed (between the common first and last lines of the
 * library's text before and after it) are spliced into the user's own text, when the library
 * kept the number of lines and the splice reads the same; else its text is used as it is.
 */
export function keepText(original: string, rewritten: string, edited: string): string {
  const lines = (text: string) => text.split("\n");
  const [o, b, e] = [lines(original), lines(rewritten), lines(edited)];
  if (o.length !== b.length) return edited;
  let head = 0;
  while (head < b.length && head < e.length && b[head] === e[head]) head++;
  let tail = 0;
  while (tail < b.length - head && tail < e.length - head && b[b.length - 1 - tail] === e[e.length - 1 - tail]) tail++;
  const spliced = [...o.slice(0, head), ...e.slice(head, e.length - tail), ...o.slice(o.length - tail)].join("\n");
  return isDeepStrictEqual(YAML.parse(spliced), YAML.parse(edited)) ? spliced : edited;
}

/**
 * Writes `text` to the target through a temporary file that the loader validates first. A
 * new file is 0600 and trusted at once; an existing one keeps its mode, and stays trusted when
 * it was trusted just before this change (the change is tokensmith's own, for this user).
 */
export async function writeValidated(target: ConfigTarget, before: string | undefined, text: string, cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  const ext = extname(target.path) || ".yaml";
  const temp = join(dirname(target.path), `.${basename(target.path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp${ext}`);
  const mode = target.exists ? (await stat(target.path)).mode & 0o777 & ~0o022 : FILE_MODE;
  const wasTrusted = target.exists && target.local && before !== undefined && (await trustedNow(target.path, env));
  await writeFile(temp, text, { mode, flag: "wx" });
  try {
    await chmod(temp, mode);
    await loadConfig({ config: temp, cwd, env });
    await rename(temp, target.path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err instanceof TokenSmithError ? reword(err, temp, target.path) : err;
  }
  if (!target.exists || wasTrusted) await trustConfig(target.path, env);
}

async function trustedNow(path: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const { sha256 } = await readOwnFile(path, "config file");
  return isTrusted(path, sha256, env);
}

/** The loader named the temporary file: name the config instead. */
function reword(err: TokenSmithError, temp: string, path: string): TokenSmithError {
  const swap = (text: string) => text.split(temp).join(path);
  return new TokenSmithError(err.code, `${swap(err.message)} (nothing was written)`, { hint: err.hint && swap(err.hint), connection: err.connection, cause: err });
}

/** Where a secret file sits, as the config references it: relative to the config's folder when inside it. */
export function fileReference(secretPath: string, configPath: string): string {
  const dir = dirname(configPath);
  const rel = relative(dir, secretPath);
  const inside = rel && !rel.startsWith("..") && !rel.startsWith(sep) && resolve(dir, rel) === secretPath;
  return `\${file:${inside ? rel : secretPath}}`;
}

/** Writes a secret to a new owner-only file (never replacing one). */
export async function writeSecretFile(path: string, secret: string): Promise<void> {
  await writeFile(path, `${secret}\n`, { mode: FILE_MODE, flag: "wx" }).catch((cause: NodeJS.ErrnoException) => {
    throw new TokenSmithError("usage_error", `cannot write the secret file ${path} (${cause.code})`, { hint: "name a new file in a folder you can write", cause });
  });
  await chmod(path, FILE_MODE);
}

/** The current text of the target, undefined when it does not exist yet. */
export async function readTarget(target: ConfigTarget): Promise<string | undefined> {
  return target.exists ? readConfigText(target.path) : undefined;
}

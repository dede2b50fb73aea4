import { createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { xdgCacheHome } from "../config/paths.js";
import { readSealed, writeSealed } from "./sealed-cache.js";

/**
 * Token routes: what the `token`/`header` fast path (src/cli/fast-token.ts) needs to find a
 * connection's token state without loading the CLI (docs/decisions.md, "the token fast path").
 * The normal path writes one after it served a connection of the default file store; the fast
 * path reads it. One file per (config path, connection) in `$XDG_CACHE_HOME/tokensmith/`,
 * sealed like the config cache under sha256(build id, config path, exact config text,
 * connection name): any edit of the config, or another build, is a miss by construction.
 *
 * A route holds no secret: the store folder, the record key (a fingerprint hash), the refresh
 * margin, the header template (only when it has no reference), and the inputs that resolving
 * the connection read besides the config text — environment variables and files — each as an
 * HMAC under the store's key, so the cache reveals nothing about a secret value either. The
 * fast path serves only when every input is unchanged.
 */

const LABEL = "tokensmith token route v1";
const INPUT_LABEL = "tokensmith token route input\0";

/**
 * Environment variables every resolution may read (folders, config lookup, proxies, CAs):
 * a change to any of them sends the next run down the normal path.
 */
export const ENV_INPUTS: readonly string[] = [
  "HOME",
  "XDG_CONFIG_HOME",
  "XDG_STATE_HOME",
  "XDG_CACHE_HOME",
  "TOKENSMITH_CONFIG",
  "NODE_EXTRA_CA_CERTS",
  ...["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY"].flatMap((name) => [name, name.toLowerCase()]),
];

export interface TokenRoute {
  v: 1;
  /** The file store's folder (absolute). */
  storeDir: string;
  /** The token state's store key (AAD-bound in the record). */
  recordKey: string;
  /** The connection's configured `refresh_margin` (ms); absent for the default. */
  marginMs?: number;
  /** `header`: the connection's header template, `{token}` standing for the token. */
  header: { name: string; value: string };
  /** The inputs resolution read besides the config text, and one HMAC of all their values (under the store key). */
  inputs: RouteInputs;
}

/** What a route is for: it opens only for exactly these. */
export interface RouteFor {
  buildId: string;
  configPath: string;
  /** SHA-256 (hex) of the config file's bytes. */
  configSha256: string;
  name: string;
  env: NodeJS.ProcessEnv;
}

function where(route: RouteFor): { dir: string; file: string; key: Buffer } {
  const dir = join(xdgCacheHome(route.env), "tokensmith");
  const id = createHash("sha256").update(`${route.configPath}\0${route.name}`).digest("hex").slice(0, 32);
  const key = createHash("sha256").update(`${LABEL}\0${route.buildId}\0${route.configPath}\0${route.configSha256}\0${route.name}`).digest();
  return { dir, file: join(dir, `token-${id}.cache`), key };
}

/** The route, or undefined (none yet, another config text or build, an untrusted file). */
export function readRoute(route: RouteFor): TokenRoute | undefined {
  const { file, key } = where(route);
  const found = readSealed<TokenRoute>(file, key);
  return found?.v === 1 ? found : undefined;
}

export function saveRoute(route: RouteFor, value: TokenRoute): void {
  const { dir, file, key } = where(route);
  writeSealed(dir, file, key, value);
}

export interface RouteInputs {
  /** Environment variable names. */
  env: string[];
  /** Absolute file paths. */
  files: string[];
  mac: string;
}

/** A file's bytes, undefined when it cannot be read (the resolver would then fail, or not read it). */
export function fileBytes(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** The variables and files named, with one HMAC (under the store key) of their values now: unset and unreadable count too. */
export function currentInputs(storeKey: Buffer, env: NodeJS.ProcessEnv, names: Iterable<string>, files: Iterable<string>): RouteInputs {
  const inputs = { env: [...names], files: [...files] };
  const mac = createHmac("sha256", storeKey).update(INPUT_LABEL);
  const add = (value: string | Buffer | undefined) => {
    // Length-prefixed, so no two lists of values encode alike; -1 for an absent one.
    const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
    mac.update(`${bytes === undefined ? -1 : bytes.length}:`);
    if (bytes) mac.update(bytes);
  };
  add(JSON.stringify(inputs));
  for (const name of inputs.env) add(env[name]);
  for (const path of inputs.files) add(fileBytes(path));
  return { ...inputs, mac: mac.digest("base64url") };
}

/** True when every input the route was made with is unchanged. */
export function inputsHold(route: TokenRoute, storeKey: Buffer, env: NodeJS.ProcessEnv): boolean {
  return currentInputs(storeKey, env, route.inputs.env, route.inputs.files).mac === route.inputs.mac;
}

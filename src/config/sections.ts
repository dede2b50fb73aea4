import { readFileSync } from "node:fs";
import { join } from "node:path";
import { registerSecret } from "../redact.js";
import { TokenSmithError } from "../errors.js";
import { parseSentinelUrl } from "../store/redis-client.js";
import { storeDriver } from "../store/registry.js";
import type { StoreConfig } from "../store/types.js";
import { configError, type ConfigErrorOptions } from "./issues.js";
import type { LoadedConfig } from "./loaded.js";
import { absolutePath, xdgStateHome } from "./paths.js";
import { createDryResolver, createResolver, hasReference, resolveDeep, type Resolver } from "./references.js";
import { API_KEY_HINT, apiKeyProblem, hostNameProblem } from "./gateway-rules.js";

/**
 * The `store:` and `gateway:` sections with references resolved, paths made absolute and
 * defaults filled (SPEC §1, §5, §6).
 */

/** The gateway binds loopback unless told otherwise (SPEC §5). */
export const DEFAULT_GATEWAY_HOST = "127.0.0.1";
export const DEFAULT_GATEWAY_PORT = 7373;
/** AES-256-GCM keys are 32 bytes (SPEC §2.15). */
const KEY_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
const KEY_HINT = "generate one with: openssl rand -base64 32";

export interface GatewayConfig {
  host: string;
  port: number;
  /** Bearer keys, each optionally limited to connections; empty: the gateway generates one. */
  apiKeys: { key: string; connections?: string[] }[];
  /** More names the Host header may carry (`gateway.hosts`), e.g. the TLS certificate's DNS name. */
  hosts: string[];
  /** PEM text of the certificate and key (read from files when paths were given). */
  tls?: { cert: string; key: string };
}

function checkKey(key: string, field: string, options: ConfigErrorOptions): void {
  if (!BASE64.test(key)) throw configError(field, "must be base64 (32 random bytes)", { ...options, hint: KEY_HINT });
  const bytes = Buffer.from(key, "base64").length;
  if (bytes !== KEY_BYTES) throw configError(field, `must be ${KEY_BYTES} bytes, base64-encoded (got ${bytes} bytes)`, { ...options, hint: KEY_HINT });
}

function checkStoreUrl(url: string, type: string, options: ConfigErrorOptions): void {
  const schemes = storeDriver(type)?.schemes;
  if (!schemes) return; // a field for another driver: the schema reports it
  // Never echo a store URL: it usually carries a password.
  const notUrl = (cause?: unknown) => configError("store.url", `not a ${type} URL`, { ...options, cause, hint: `e.g. ${schemes[0]}//user:password@host/db` });
  const protocol = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(url)?.[1]?.toLowerCase();
  if (!protocol) throw notUrl();
  if (!schemes.includes(protocol)) {
    throw configError("store.url", `must be a ${schemes.join(" or ")} URL (got ${protocol})`, options);
  }
  try {
    // Sentinel URLs list several hosts, which WHATWG URLs cannot hold.
    if (protocol.endsWith("+sentinel:")) parseSentinelUrl(url);
    else new URL(url);
  } catch (cause) {
    if (cause instanceof TokenSmithError) throw configError("store.url", cause.message.replace(/^store\.url: /, ""), { ...options, hint: cause.hint });
    throw notUrl(cause);
  }
}

/** A node of a Redis Cluster: redis:// or rediss:// with a host and port (a cluster has no databases or sentinels). */
function checkClusterUrl(url: string, field: string, options: ConfigErrorOptions): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw configError(field, "not a redis URL", { ...options, cause, hint: "e.g. redis://:password@10.0.0.1:6379 (one entry per node)" });
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw configError(field, `must be a redis: or rediss: URL (got ${parsed.protocol})`, { ...options, hint: "list cluster nodes as redis://host:port" });
  }
}

function buildStore(loaded: LoadedConfig, env: NodeJS.ProcessEnv, resolver: Resolver): StoreConfig {
  const options: ConfigErrorOptions = { file: loaded.path };
  const section = resolveDeep(loaded.store ?? {}, ["store"], resolver);
  const known = (value: string | undefined): value is string => value !== undefined && !(resolver.dry && hasReference(value));
  const store: StoreConfig = { type: section.type ?? "file" };
  if (store.type === "file") store.dir = section.dir ? absolutePath(section.dir, loaded.dir, env) : join(xdgStateHome(env), "tokensmith");
  if (section.url) {
    if (known(section.url)) checkStoreUrl(section.url, store.type, options);
    store.url = section.url;
  }
  if (section.cluster) {
    section.cluster.forEach((url, i) => known(url) && checkClusterUrl(url, `store.cluster[${i}]`, options));
    store.cluster = section.cluster;
  }
  if (section.schema) store.schema = section.schema;
  if (section.prefix) store.prefix = section.prefix;
  if (section.key) {
    if (known(section.key)) checkKey(section.key, "store.key", options);
    store.key = section.key;
  }
  if (section.old_keys) {
    section.old_keys.forEach((key, i) => known(key) && checkKey(key, `store.old_keys[${i}]`, options));
    store.oldKeys = section.old_keys;
  }
  return store;
}

/** A PEM value given inline, or read from the path given (relative to the config file). */
function pem(value: string, field: string, loaded: LoadedConfig, env: NodeJS.ProcessEnv): string {
  if (value.includes("-----BEGIN ")) return value;
  const path = absolutePath(value, loaded.dir, env);
  try {
    return readFileSync(path, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw configError(field, code === "ENOENT" ? `file ${path} not found` : `cannot read ${path} (${code})`, {
      file: loaded.path,
      cause,
      hint: "give a PEM file path (relative to the config file) or the PEM text",
    });
  }
}

function buildGateway(loaded: LoadedConfig, env: NodeJS.ProcessEnv, resolver: Resolver): GatewayConfig {
  const section = resolveDeep(loaded.gateway ?? {}, ["gateway"], resolver);
  // Literal values were checked at load; references are checked here, once resolved (at start).
  const apiKeys = (section.api_keys ?? []).map((entry, i) => {
    const problem = resolver.dry ? undefined : apiKeyProblem(entry.key);
    if (problem) throw configError(`gateway.api_keys[${i}].key`, problem, { file: loaded.path, hint: API_KEY_HINT });
    return entry.connections ? { key: entry.key, connections: entry.connections } : { key: entry.key };
  });
  const hosts = (section.hosts ?? []).map((name, i) => {
    const problem = resolver.dry ? undefined : hostNameProblem(name);
    if (problem) throw configError(`gateway.hosts[${i}]`, problem, { file: loaded.path });
    return name;
  });
  const gateway: GatewayConfig = { host: section.host ?? DEFAULT_GATEWAY_HOST, port: section.port ?? DEFAULT_GATEWAY_PORT, apiKeys, hosts };
  if (section.tls && !resolver.dry) {
    const key = pem(section.tls.key, "gateway.tls.key", loaded, env);
    registerSecret(key);
    gateway.tls = { cert: pem(section.tls.cert, "gateway.tls.cert", loaded, env), key };
  }
  return gateway;
}

/** The `store:` section (default: the file store under $XDG_STATE_HOME/tokensmith). */
export function resolveStoreConfig(loaded: LoadedConfig, env: NodeJS.ProcessEnv = process.env): StoreConfig {
  return buildStore(loaded, env, createResolver({ dir: loaded.dir, env, file: loaded.path }));
}

/** The `gateway:` section with defaults (127.0.0.1:7373) and TLS material read. */
export function resolveGatewayConfig(loaded: LoadedConfig, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return buildGateway(loaded, env, createResolver({ dir: loaded.dir, env, file: loaded.path }));
}

/** Load-time checks of both sections that need no reference's value. */
export function checkSections(loaded: LoadedConfig, env: NodeJS.ProcessEnv): void {
  const dry = createDryResolver({ file: loaded.path });
  buildStore(loaded, env, dry);
  buildGateway(loaded, env, dry);
}

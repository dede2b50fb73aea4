import { getPreset, listPresets, type Preset } from "../providers/registry.js";
import { templateNames } from "../providers/variables.js";
import { deriveConnection } from "./derive.js";
import { configError, type ConfigErrorOptions } from "./issues.js";
import type { LoadedConfig } from "./loaded.js";
import { applyCredentialsFile } from "./credentials-file.js";
import { applyPreset, fillUrlTemplate, URL_FIELDS, type MergedConnection } from "./merge.js";
import { createDryResolver, createResolver, createSecretlessResolver, hasReference, resolveDeep, type Resolver } from "./references.js";
import { checkTlsClientAuth, networkSettings } from "./network.js";
import { didYouMean } from "./suggest.js";
import type { ConnectionConfig } from "./schema.js";
import type { ResolvedConnection } from "./types.js";
import { checkEndpointUrl, checkRedirectUri, isInsecureHttp } from "./urls.js";

export { resolveGatewayConfig, resolveStoreConfig, type GatewayConfig } from "./sections.js";

/**
 * One connection from the loaded config to what the protocol and lifecycle layers use:
 * references resolved (only this connection's), the preset applied, `{var}` templates
 * filled, URLs checked, defaults filled, requirements checked (SPEC §1).
 */

export interface ResolveOptions {
  /** Environment for `${env:}` references and `~`; default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

export interface ResolvedResult {
  connection: ResolvedConnection;
  /** Things that work but deserve a word (password grant, pkce plain, plain http): print once. */
  warnings: string[];
}

function findPreset(name: string, field: string, options: ConfigErrorOptions): Preset {
  const preset = getPreset(name);
  if (preset) return preset;
  const names = listPresets().map((p) => p.name);
  const hint = [didYouMean(name, names), "tokensmith providers lists them"].filter(Boolean).join(" ");
  throw configError(field, `unknown provider ${JSON.stringify(name)}`, { ...options, hint });
}

function checkUrls(m: MergedConnection, path: string, options: ConfigErrorOptions, dry: boolean): { warnings: string[]; origins?: string[] } {
  const rule = { ...options, allowInsecureHttp: m.allow_insecure_http ?? false };
  const unresolved = (value: string) => dry && hasReference(value);
  const warnings: string[] = [];
  const insecure = (url: URL, field: string) => {
    if (isInsecureHttp(url)) warnings.push(`connection ${options.connection}: ${field} uses plain http (${url.host}): secrets travel in clear text`);
  };
  for (const field of URL_FIELDS) {
    const value = m[field];
    if (value && !unresolved(value)) insecure(checkEndpointUrl(value, `${path}.${field}`, rule), field);
  }
  if (m.redirect_uri && !unresolved(m.redirect_uri)) insecure(checkRedirectUri(m.redirect_uri, `${path}.redirect_uri`, rule), "redirect_uri");
  const origins = m.allowed_origins?.map((value, i) => {
    if (unresolved(value)) return value;
    const url = checkEndpointUrl(value, `${path}.allowed_origins[${i}]`, rule);
    insecure(url, "allowed_origins");
    return url.origin;
  });
  return { warnings, origins };
}

/** Params whose values may use `{var}` templates (merge.ts fillParamTemplates). */
const TEMPLATED_PARAMS = ["authorization_params", "token_params", "refresh_params"] as const;

/**
 * A `vars` entry no template uses is a typo (`tennant:` silently leaving Microsoft's tenant at
 * `common`) or a leftover: refused like an unknown field, with the variables that are used.
 */
function checkVarsUsed(merged: MergedConnection, own: ConnectionConfig, preset: Preset | undefined, path: string, options: ConfigErrorOptions): void {
  const urls = URL_FIELDS.map((field) => merged[field] ?? "");
  const params = TEMPLATED_PARAMS.flatMap((field) => Object.values(merged[field] ?? {}));
  // A reference not yet resolved (at load) may hold templates of its own: judge only when none is left.
  if ([...urls, ...params].some(hasReference)) return;
  const used = new Set(Object.keys(preset?.vars ?? {}));
  for (const url of urls) for (const name of templateNames(url)) used.add(name);
  // In parameters, {scopes} is the requested scopes, never a var.
  for (const param of params) for (const name of templateNames(param)) if (name !== "scopes") used.add(name);
  for (const name of Object.keys(own.vars ?? {})) {
    if (used.has(name)) continue;
    const known = used.size ? `variables used: ${[...used].join(", ")}` : "no URL or parameter of this connection has a {template}";
    const hint = [didYouMean(name, used), known].filter(Boolean).join(" ");
    throw configError(`${path}.vars.${name}`, "not used by any {template}", { ...options, hint });
  }
}

function build(loaded: LoadedConfig, name: string, resolver: Resolver, env: NodeJS.ProcessEnv = process.env): ResolvedResult {
  const path = `connections.${name}`;
  const options: ConfigErrorOptions = { connection: name, file: loaded.path };
  const written = resolveDeep(loaded.connections[name], ["connections", name], resolver);
  const preset = written.provider ? findPreset(written.provider, `${path}.provider`, options) : undefined;
  const own = applyCredentialsFile(written, preset, resolver, path, options);
  const merged = applyPreset(own, preset);
  checkVarsUsed(merged, own, preset, path, options);
  const vars = merged.vars ?? {};
  for (const field of URL_FIELDS) {
    const value = merged[field];
    if (!value) continue;
    const fromPreset = own[field] === undefined ? preset?.name : undefined;
    merged[field] = fillUrlTemplate(value, vars, `${path}.${field}`, { ...options, preset: fromPreset });
  }
  const urls = checkUrls(merged, path, options, resolver.dry);
  const derived = deriveConnection(merged, { ...options, name, path, preset, dry: resolver.dry });
  derived.connection.allowedOrigins = urls.origins;
  Object.assign(derived.connection, networkSettings(loaded, own, resolver, env, { ...options, path }));
  checkTlsClientAuth(derived.connection.clientAuth, derived.connection.tls, { ...options, path });
  checkTokenSources(loaded, name, derived.connection, options);
  return { connection: derived.connection, warnings: [...urls.warnings, ...derived.warnings] };
}

/** `subject_token: {connection: NAME}` names another configured connection (RFC 8693 exchange). */
function checkTokenSources(loaded: LoadedConfig, name: string, conn: ResolvedConnection, options: ConfigErrorOptions): void {
  const sources = [["subject_token", conn.tokenExchange?.subject], ["actor_token", conn.tokenExchange?.actor]] as const;
  for (const [field, source] of sources) {
    if (!source || !("connection" in source)) continue;
    const other = source.connection;
    const path = `connections.${name}.${field}.connection`;
    if (other === name) throw configError(path, "a connection cannot exchange its own token", { ...options, hint: "name the connection whose access token is exchanged" });
    if (!Object.hasOwn(loaded.connections, other)) {
      const names = loaded.connectionNames().filter((n) => n !== name);
      throw configError(path, `no connection named "${other}"`, { ...options, hint: didYouMean(other, names) || `configured: ${names.join(", ")}` });
    }
  }
}

function requireConnection(loaded: LoadedConfig, name: string): void {
  if (Object.hasOwn(loaded.connections, name)) return;
  const names = loaded.connectionNames();
  const configured = names.length ? `configured: ${names.join(", ")}` : "no connections are configured";
  const hint = [didYouMean(name, names), configured].filter(Boolean).join(" ");
  throw configError(`connections.${name}`, "no such connection", { hint, file: loaded.path });
}

/**
 * The named connection, ready to use. Reads only this connection's `${env:}`/`${file:}`
 * references and registers its secrets for redaction. Throws `config_invalid` naming the
 * field (and, for references, the variable or file).
 */
export function resolveConnection(loaded: LoadedConfig, name: string, options: ResolveOptions = {}): ResolvedResult {
  requireConnection(loaded, name);
  const env = options.env ?? process.env;
  return build(loaded, name, createResolver({ dir: loaded.dir, env, connection: name, file: loaded.path }), env);
}

/**
 * The named connection with every reference resolved but its secrets (client_secret, password,
 * refresh_token, private_key stay as written): its fingerprint is right, so its token state
 * can be found, dropped or moved (logout, export, which connections share a state) on a
 * machine that lacks the secrets. Never for token requests.
 */
export function resolveWithoutSecrets(loaded: LoadedConfig, name: string, options: ResolveOptions = {}): ResolvedResult {
  requireConnection(loaded, name);
  const env = options.env ?? process.env;
  return build(loaded, name, createSecretlessResolver({ dir: loaded.dir, env, connection: name, file: loaded.path }), env);
}

/**
 * Every check `resolveConnection` makes that does not need a reference's value: run on all
 * connections at load, so a config with a missing field never starts (SPEC §1).
 */
export function checkConnection(loaded: LoadedConfig, name: string): void {
  requireConnection(loaded, name);
  build(loaded, name, createDryResolver({ connection: name, file: loaded.path }));
}

/**
 * What a connection is (grant, provider, endpoints) without reading any `${env:}`/`${file:}`
 * reference, for listings such as `tokensmith connections`: references stay as written, so
 * listing never needs a secret.
 */
export function describeConnection(loaded: LoadedConfig, name: string): ResolvedConnection {
  requireConnection(loaded, name);
  return build(loaded, name, createDryResolver({ connection: name, file: loaded.path })).connection;
}

import type { ResolvedConnection } from "../config/types.js";
import { TokenSmithError } from "../errors.js";
import { invalidResponse, parseBody } from "../protocol/response.js";
import { sendTokenRequest } from "../protocol/send.js";
import type { Endpoints, ProtocolDeps } from "../protocol/types.js";
import { checkEndpointUrl, fieldPath } from "../protocol/urls.js";
import { excerpt } from "../redact.js";

/**
 * Authorization server metadata (OpenID Connect Discovery 1.0, RFC 8414), fetched only when a
 * request needs an endpoint the configuration does not name, and cached (SPEC §2.12).
 */
export interface DiscoveryCacheEntry {
  metadata: Record<string, unknown>;
  /** Epoch ms. */
  expiresAt: number;
}

/** Where metadata is kept between runs (the lifecycle backs it with the store). Keys: `discovery:<url>`. */
export interface DiscoveryCache {
  get(key: string): Promise<DiscoveryCacheEntry | undefined>;
  set(key: string, value: DiscoveryCacheEntry): Promise<void>;
}

export interface DiscoveryDeps extends ProtocolDeps {
  cache?: DiscoveryCache;
}

/** Metadata changes rarely; a day keeps discovery off the hot path without pinning a migration for long. */
export const DEFAULT_DISCOVERY_TTL_MS = 24 * 60 * 60 * 1000;
/** However long a server says, re-read at least weekly so moved endpoints are picked up. */
export const MAX_DISCOVERY_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const MS_PER_S = 1000;
const WHAT = "discovery endpoint";
/**
 * Same-origin redirects a metadata GET follows (SPEC §2.12): Django OAuth Toolkit before 3.2
 * serves its metadata only at `.../openid-configuration/` and redirects the standard path.
 */
export const MAX_METADATA_REDIRECTS = 3;

/** The metadata members we use, by the Endpoints field they fill. */
const METADATA_URLS = {
  tokenUrl: "token_endpoint",
  authorizationUrl: "authorization_endpoint",
  revocationUrl: "revocation_endpoint",
  introspectionUrl: "introspection_endpoint",
  deviceAuthorizationUrl: "device_authorization_endpoint",
  userinfoUrl: "userinfo_endpoint",
  jwksUri: "jwks_uri",
} as const;
export type EndpointName = keyof typeof METADATA_URLS;

/** Config field names, for errors about an endpoint nobody provided. */
const CONFIG_FIELDS: Record<EndpointName, string> = {
  tokenUrl: "token_url",
  authorizationUrl: "authorization_url",
  revocationUrl: "revocation_url",
  introspectionUrl: "introspection_url",
  deviceAuthorizationUrl: "device_authorization_url",
  userinfoUrl: "userinfo_url",
  jwksUri: "issuer",
};
/** Endpoints a provider may simply not have: their absence is "not supported", not a config error. */
const OPTIONAL: ReadonlySet<EndpointName> = new Set(["revocationUrl", "introspectionUrl", "userinfoUrl"]);

/** The endpoints the connection names itself. */
export function configuredEndpoints(conn: ResolvedConnection): Endpoints {
  const out: Endpoints = {};
  if (conn.issuer) out.issuer = conn.issuer;
  if (conn.tokenUrl) out.tokenUrl = conn.tokenUrl;
  if (conn.authorizationUrl) out.authorizationUrl = conn.authorizationUrl;
  if (conn.revocationUrl) out.revocationUrl = conn.revocationUrl;
  if (conn.introspectionUrl) out.introspectionUrl = conn.introspectionUrl;
  if (conn.deviceAuthorizationUrl) out.deviceAuthorizationUrl = conn.deviceAuthorizationUrl;
  if (conn.userinfoUrl) out.userinfoUrl = conn.userinfoUrl;
  return out;
}

/** `discovery_url`, else the OIDC form, then RFC 8414 §3.1's (well-known segment before the path). */
export function discoveryUrls(conn: ResolvedConnection): string[] {
  const check = (url: string, field: string) => checkEndpointUrl(url, { field: fieldPath(conn.name, field), allowInsecureHttp: conn.allowInsecureHttp });
  if (conn.discoveryUrl) return [check(conn.discoveryUrl, "discovery_url")];
  if (!conn.issuer) return [];
  const issuer = new URL(check(conn.issuer, "issuer"));
  const path = issuer.pathname.replace(/\/$/, "");
  return [`${issuer.origin}${path}/.well-known/openid-configuration`, `${issuer.origin}/.well-known/oauth-authorization-server${path}`];
}

const withoutSlash = (s: string) => s.replace(/\/$/, "");

/**
 * The metadata's issuer must be the configured one (a trailing slash aside), or fit the
 * preset's template where `{placeholders}` match one path segment (Microsoft's multi-tenant
 * metadata says literally `.../{tenantid}/v2.0`). With neither configured there is nothing to compare.
 */
export function issuerMatches(conn: ResolvedConnection, actual: string): boolean {
  if (conn.issuer && withoutSlash(conn.issuer) === withoutSlash(actual)) return true;
  if (conn.issuerTemplate) {
    const pattern = withoutSlash(conn.issuerTemplate)
      .split(/(\{[^}]+\})/)
      .map((part) => (/^\{[^}]+\}$/.test(part) ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
      .join("");
    if (new RegExp(`^${pattern}$`).test(withoutSlash(actual))) return true;
  }
  return !conn.issuer && !conn.issuerTemplate;
}

/**
 * RFC 8705 §5: a client that uses a TLS client certificate calls the endpoints of
 * `mtls_endpoint_aliases` where the server lists one (servers often serve mutual TLS on
 * another host); the plain ones otherwise.
 */
function mtlsAliases(conn: ResolvedConnection, metadata: Record<string, unknown>): Record<string, unknown> {
  const aliases = metadata.mtls_endpoint_aliases;
  return conn.tls?.clientCert && aliases && typeof aliases === "object" && !Array.isArray(aliases) ? (aliases as Record<string, unknown>) : {};
}

/** Reads the endpoints from metadata, refusing any that are not https (or loopback). */
export function metadataToEndpoints(conn: ResolvedConnection, metadata: Record<string, unknown>, source: string): Endpoints {
  const out: Endpoints = {};
  if (typeof metadata.issuer === "string") out.issuer = metadata.issuer;
  const aliases = mtlsAliases(conn, metadata);
  for (const [name, member] of Object.entries(METADATA_URLS) as [EndpointName, string][]) {
    const value = typeof aliases[member] === "string" && aliases[member] !== "" ? aliases[member] : metadata[member];
    if (typeof value !== "string" || value === "") continue;
    try {
      out[name] = checkEndpointUrl(value, { field: member, allowInsecureHttp: conn.allowInsecureHttp });
    } catch (cause) {
      const reason = cause instanceof TokenSmithError ? cause.message : String(cause);
      throw new TokenSmithError("invalid_response", `metadata at ${source} has an unusable ${member}: ${reason}`, { url: source, cause });
    }
  }
  if (typeof metadata.authorization_response_iss_parameter_supported === "boolean") {
    out.authorizationResponseIssParameterSupported = metadata.authorization_response_iss_parameter_supported;
  }
  const methods = metadata.code_challenge_methods_supported;
  if (Array.isArray(methods) && methods.every((m) => typeof m === "string")) out.codeChallengeMethodsSupported = methods;
  return out;
}

/** Configured endpoints win over discovered ones. */
export function mergeEndpoints(configured: Endpoints, discovered: Endpoints): Endpoints {
  const out: Endpoints = { ...discovered };
  for (const [key, value] of Object.entries(configured)) if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  return out;
}

/** Cache lifetime from Cache-Control: none for no-store/no-cache, max-age (capped), else the default. */
export function metadataTtlMs(cacheControl: string | null): number {
  const directives = (cacheControl ?? "").toLowerCase();
  if (/(^|[\s,])(no-store|no-cache)\b/.test(directives)) return 0;
  const maxAge = /(?:^|[\s,])max-age\s*=\s*"?(\d+)/.exec(directives);
  if (maxAge) return Math.min(Number(maxAge[1]) * MS_PER_S, MAX_DISCOVERY_TTL_MS);
  return DEFAULT_DISCOVERY_TTL_MS;
}

function checkIssuer(conn: ResolvedConnection, metadata: Record<string, unknown>, source: string): void {
  if (typeof metadata.issuer !== "string" || metadata.issuer === "") {
    throw new TokenSmithError("invalid_response", `metadata at ${source} has no issuer`, { url: source });
  }
  if (!issuerMatches(conn, metadata.issuer)) {
    throw new TokenSmithError("config_invalid", `issuer mismatch: metadata at ${source} is for ${excerpt(metadata.issuer, 200)}, not ${conn.issuer ?? conn.issuerTemplate}`, {
      field: fieldPath(conn.name, "issuer"),
      url: source,
      hint: "set issuer exactly as the provider spells it (the metadata's issuer), or check discovery_url",
    });
  }
}

const cacheKey = (url: string) => `discovery:${url}`;

/** A cache that fails is no reason to fail: discovery just runs again. */
async function cached(deps: DiscoveryDeps, url: string): Promise<DiscoveryCacheEntry | undefined> {
  try {
    const entry = await deps.cache?.get(cacheKey(url));
    return entry && entry.expiresAt > deps.now() ? entry : undefined;
  } catch {
    return undefined;
  }
}

/** One candidate URL: its metadata, or an error saying why not. */
async function fetchMetadata(conn: ResolvedConnection, url: string, deps: DiscoveryDeps): Promise<DiscoveryCacheEntry> {
  const response = await sendTokenRequest(
    { url, method: "GET", headers: { Accept: "application/json" } },
    { fetch: deps.fetch, timeoutMs: deps.timeoutMs ?? conn.timeoutMs, signal: deps.signal, now: deps.now, what: WHAT, maxRedirects: MAX_METADATA_REDIRECTS },
  );
  const parsed = parseBody(response, WHAT);
  if (response.status < 200 || response.status >= 300) throw invalidResponse(WHAT, response, parsed, { now: deps.now });
  if (parsed.kind !== "object") throw invalidResponse(WHAT, response, parsed, { hint: "this is not authorization server metadata: check issuer or discovery_url" });
  return { metadata: parsed.value, expiresAt: deps.now() + metadataTtlMs(response.headers.get("cache-control")) };
}

const isTransientFailure = (err: unknown) =>
  err instanceof TokenSmithError && (err.code === "network_error" || err.code === "timeout" || (err.status !== undefined && (err.status >= 500 || err.status === 429)));

/**
 * Fetches (or reads from the cache) the metadata and returns its endpoints merged with the
 * configured ones. Candidates are tried in order; a 404 or a page that is not metadata moves on
 * to the next, an unreachable server stops at once.
 */
export async function discover(conn: ResolvedConnection, deps: DiscoveryDeps): Promise<Endpoints> {
  const candidates = discoveryUrls(conn);
  if (candidates.length === 0) {
    throw new TokenSmithError("config_invalid", `connection ${conn.name} has neither issuer nor discovery_url to discover endpoints from`, {
      field: fieldPath(conn.name, "issuer"),
      connection: conn.name,
    });
  }
  for (const url of candidates) {
    const entry = await cached(deps, url);
    if (entry && typeof entry.metadata.issuer === "string" && issuerMatches(conn, entry.metadata.issuer)) {
      return mergeEndpoints(configuredEndpoints(conn), metadataToEndpoints(conn, entry.metadata, url));
    }
  }
  const failures: unknown[] = [];
  for (const url of candidates) {
    let entry: DiscoveryCacheEntry;
    try {
      entry = await fetchMetadata(conn, url, deps);
    } catch (err) {
      if (err instanceof TokenSmithError && (err.code === "network_error" || err.code === "timeout")) throw err.withConnection(conn.name);
      if (!(err instanceof TokenSmithError)) throw err;
      failures.push(err);
      continue;
    }
    checkIssuer(conn, entry.metadata, url);
    const endpoints = mergeEndpoints(configuredEndpoints(conn), metadataToEndpoints(conn, entry.metadata, url));
    if (entry.expiresAt > deps.now()) await deps.cache?.set(cacheKey(url), entry).catch(() => undefined);
    return endpoints;
  }
  const failure = (failures.find(isTransientFailure) ?? failures[0]) as TokenSmithError;
  throw new TokenSmithError(failure.code, `no authorization server metadata at ${candidates.join(" or ")}: ${failure.message}`, {
    status: failure.status,
    url: failure.url,
    retryAfter: failure.retryAfter,
    connection: conn.name,
    hint: "check issuer (or set discovery_url, or the endpoint URLs themselves)",
    cause: failure,
  });
}

/**
 * The endpoints a request needs: the configured ones when they suffice (no network at all),
 * else discovered and merged. A needed endpoint found nowhere is `config_invalid`, or
 * `not_supported` for the optional ones (revocation, introspection, userinfo).
 */
export async function resolveEndpoints(conn: ResolvedConnection, deps: DiscoveryDeps, need: readonly EndpointName[] = ["tokenUrl"]): Promise<Endpoints> {
  const configured = configuredEndpoints(conn);
  if (need.every((name) => configured[name])) return configured;
  const endpoints = conn.issuer || conn.discoveryUrl ? await discover(conn, deps) : configured;
  const missing = need.find((name) => !endpoints[name]);
  if (missing) {
    const field = fieldPath(conn.name, CONFIG_FIELDS[missing]);
    const where = conn.issuer || conn.discoveryUrl ? "neither configured nor in the issuer's metadata" : "not configured (and no issuer to discover it from)";
    throw new TokenSmithError(OPTIONAL.has(missing) ? "not_supported" : "config_invalid", `connection ${conn.name}: ${CONFIG_FIELDS[missing]} is ${where}`, {
      field,
      connection: conn.name,
      hint: missing === "revocationUrl" ? `the provider may not support revocation; "tokensmith logout ${conn.name}" drops the local state` : `set ${CONFIG_FIELDS[missing]} or issuer`,
    });
  }
  return endpoints;
}

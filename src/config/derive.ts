import type { Preset } from "../providers/registry.js";
import { parseDuration, parseTtl } from "./duration.js";
import { configError, type ConfigErrorOptions } from "./issues.js";
import { fillParamTemplates, type MergedConnection } from "./merge.js";
import { hasReference } from "./references.js";
import { GRANT_TABLE, grantOf } from "./grants.js";
import { isUserGrant, type ClientAuth, type GrantName, type ResolvedConnection, type TokenExchangeSettings, type TokenSource } from "./types.js";

/**
 * Defaults and requirement checks of SPEC §1, on a connection whose preset is applied and
 * whose references and templates are filled: what grant, how the client authenticates, and
 * whether everything that grant needs is there. Every error names the field to fix.
 */

/** Default lifetime assumed when a token response has no expires_in (SPEC §1). */
export const DEFAULT_TTL_S = 3600;
/** Default per-request timeout against the authorization server (SPEC §1). */
export const DEFAULT_TIMEOUT_S = 30;
/** Lifetime of a generated JWT assertion: short, since it is a bearer credential (SPEC §1). */
export const DEFAULT_ASSERTION_TTL_S = 300;
/** API retries, when `api_retry` is given without them (SPEC §2.13). */
export const DEFAULT_API_RETRY = { max: 3, on: [429, 503] };

/** RFC 8693 §3: the token type of an access token, the default for every token exchange type. */
export const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";

/** Why a grant needs each field of `requires` in the grant table, for the error that names it. */
const REQUIRED_HINTS: Record<string, string> = {
  username: "the resource owner's user name",
  password: "set password: ${env:NAME}",
  "assertion.sub": "the user or service account the assertion speaks for",
  subject_token: "the token to exchange: a value, ${env:NAME}, or {connection: NAME} for another connection's access token",
};

function fieldValue(m: MergedConnection, path: string): unknown {
  return path.split(".").reduce<unknown>((value, key) => (value && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined), m);
}

function tokenSource(value: MergedConnection["subject_token"]): TokenSource | undefined {
  if (value === undefined) return undefined;
  return typeof value === "string" ? { value } : { connection: value.connection };
}

function tokenExchange(m: MergedConnection, grant: GrantName): TokenExchangeSettings | undefined {
  const subject = tokenSource(m.subject_token);
  if (grant !== "token_exchange" || !subject) return undefined;
  const actor = tokenSource(m.actor_token);
  return {
    subject,
    subjectType: m.subject_token_type ?? ACCESS_TOKEN_TYPE,
    actor,
    actorType: actor ? (m.actor_token_type ?? ACCESS_TOKEN_TYPE) : undefined,
    requestedType: m.requested_token_type,
  };
}

export interface DeriveContext extends ConfigErrorOptions {
  name: string;
  /** `connections.<name>`: the prefix of every field path. */
  path: string;
  preset?: Preset;
  /** True at load: values may still hold unresolved references. */
  dry: boolean;
}

function defaultClientAuth(m: MergedConnection, grant: GrantName, preset?: Preset): ClientAuth {
  if (m.private_key && grant !== "jwt_bearer") return "private_key_jwt";
  if (m.client_secret) return preset?.client_auth ?? "auto";
  return "none";
}

/** A PEM block or a JWK (JSON with `kty`), checked without ever showing the key. */
function looksLikeKey(key: string): boolean {
  if (key.includes("-----BEGIN ")) return true;
  try {
    const jwk = JSON.parse(key) as { kty?: unknown };
    return typeof jwk === "object" && jwk !== null && typeof jwk.kty === "string";
  } catch {
    return false;
  }
}

/** The resolved connection, or a `config_invalid` error naming the field that is missing or wrong. */
export function deriveConnection(m: MergedConnection, ctx: DeriveContext): { connection: ResolvedConnection; warnings: string[] } {
  const fail = (field: string, problem: string, hint?: string) => configError(`${ctx.path}.${field}`, problem, { ...ctx, hint });
  const warnings: string[] = [];
  const privateKey = typeof m.private_key === "object" ? JSON.stringify(m.private_key) : m.private_key;

  if (!m.grant && !m.grant_type && !m.authorization_url) {
    if (m.username || m.password) throw fail("grant", "username/password are set but no grant is", "set grant: password (a legacy grant)");
    if (m.refresh_token) throw fail("grant", "a seed refresh_token is set but no grant is", "set grant: refresh_token");
  }
  const grant = grantOf(m);
  // At load the credentials file is not read yet: the key and issuer it gives are checked when it is.
  const keyFromFile = ctx.dry && !!m.credentials_file;
  const clientAuth = m.client_auth ?? defaultClientAuth(m, grant, ctx.preset);
  const discoverable = Boolean(m.issuer || m.discovery_url);

  if (!m.token_url && !discoverable) {
    throw fail("token_url", "required (or issuer / discovery_url to read it from the server's metadata)", "set token_url, issuer, or provider: NAME (tokensmith providers lists them)");
  }
  if (grant === "authorization_code" && !m.authorization_url && !discoverable) {
    throw fail("authorization_url", "required for grant authorization_code", "set authorization_url, or issuer for discovery");
  }
  if (grant === "device_code" && !m.device_authorization_url && !discoverable) {
    throw fail("device_authorization_url", "required for grant device_code", "set device_authorization_url, or issuer for discovery");
  }
  if (!m.client_id && !(grant === "jwt_bearer" && clientAuth === "none")) {
    throw fail("client_id", `required for grant ${grant}`, "the client id the authorization server gave this application");
  }
  if ((clientAuth === "auto" || clientAuth === "basic" || clientAuth === "post" || clientAuth === "client_secret_jwt") && !m.client_secret) {
    throw fail("client_secret", `required for client_auth ${clientAuth}`, "set client_secret: ${env:NAME}, or client_auth: none for a public client");
  }
  if (clientAuth === "private_key_jwt" && !privateKey) {
    throw fail("private_key", "required for client_auth private_key_jwt", "set private_key: ${file:key.pem}");
  }
  if (grant === "client_credentials" && !m.grant_type && !m.client_auth && clientAuth === "none") {
    throw fail("client_secret", "grant client_credentials needs client authentication", "set client_secret or private_key (or client_auth: none if the server accepts public clients)");
  }
  if (ctx.preset?.credentials_format && !m.credentials_file && !privateKey) {
    throw fail("credentials_file", `required for provider ${ctx.preset.name}`, "the service account's JSON key file, e.g. credentials_file: ~/keys/reports-sa.json");
  }
  for (const required of GRANT_TABLE[grant].requires) {
    // A service account (scope inside the assertion) speaks for itself: its identity is the issuer, sub only delegates.
    if (required === "assertion.sub" && ctx.preset?.scope_in_assertion && (m.assertion?.iss || keyFromFile)) continue;
    if (!fieldValue(m, required)) throw fail(required, `required for grant ${grant}`, REQUIRED_HINTS[required]);
  }
  if (grant === "password") {
    warnings.push(`connection ${ctx.name}: the password grant is legacy and RFC 9700 forbids it; prefer authorization_code or device_code`);
  }
  const alg = m.assertion?.alg;
  if (grant === "jwt_bearer") {
    if (!privateKey && !m.client_secret && !keyFromFile) throw fail("private_key", "required for grant jwt_bearer", "set private_key: ${file:key.pem} (or client_secret with assertion.alg: HS256)");
    if (!privateKey && !keyFromFile && !alg?.startsWith("HS")) throw fail("assertion.alg", "signing the assertion with client_secret needs an HS algorithm", "set assertion.alg: HS256, or set private_key");
  }
  if (clientAuth === "client_secret_jwt" && alg && !alg.startsWith("HS")) {
    throw fail("assertion.alg", `client_secret_jwt signs with an HS algorithm (got ${alg})`, "use HS256, or private_key_jwt with a private key");
  }
  if (privateKey && alg?.startsWith("HS") && (clientAuth === "private_key_jwt" || grant === "jwt_bearer")) {
    throw fail("assertion.alg", `a private key signs with RS, PS, ES or EdDSA algorithms (got ${alg})`);
  }
  if (privateKey && !(ctx.dry && hasReference(privateKey)) && !looksLikeKey(privateKey)) {
    throw fail("private_key", "not a PEM key or a JWK", "give PEM text (-----BEGIN PRIVATE KEY-----) or a JWK; to read a file use ${file:path/to/key.pem}");
  }
  const cache = m.cache ?? "shared";
  if (cache === "none" && GRANT_TABLE[grant].refreshable) {
    throw fail("cache", `none is not allowed for grant ${grant}: its refresh token must be stored`, "use cache: process to keep access tokens in memory only");
  }
  const pkce = m.pkce ?? "S256";
  if (pkce === "plain" && grant === "authorization_code") warnings.push(`connection ${ctx.name}: pkce: plain protects nothing against an attacker who sees the authorization request; use S256`);
  if (m.account && !isUserGrant(grant) && !m.grant_type) warnings.push(`connection ${ctx.name}: account is ignored for grant ${grant}`);

  const vars = m.vars ?? {};
  const scopeSeparator = m.scope_separator ?? " ";
  const joined = m.scopes.join(scopeSeparator);
  const field = (name: string) => `${ctx.path}.${name}`;
  const connection: ResolvedConnection = {
    name: ctx.name,
    provider: m.provider,
    grant,
    grantType: m.grant_type,
    account: m.account ?? ctx.name,
    issuer: m.issuer,
    discoveryUrl: m.discovery_url,
    issuerTemplate: ctx.preset?.issuerTemplate,
    authorizationUrl: m.authorization_url,
    tokenUrl: m.token_url,
    revocationUrl: m.revocation_url,
    introspectionUrl: m.introspection_url,
    deviceAuthorizationUrl: m.device_authorization_url,
    userinfoUrl: m.userinfo_url,
    clientId: m.client_id,
    clientSecret: m.client_secret,
    clientAuth,
    basicEncoding: m.basic_encoding ?? "form",
    privateKey,
    certificate: m.certificate,
    assertion: {
      iss: m.assertion?.iss,
      sub: m.assertion?.sub,
      aud: m.assertion?.aud,
      kid: m.assertion?.kid,
      alg,
      ttlMs: parseDuration(m.assertion?.ttl ?? DEFAULT_ASSERTION_TTL_S, field("assertion.ttl")),
      claims: m.assertion?.claims ?? {},
      x5t: m.assertion?.x5t,
      scopeInAssertion: ctx.preset?.scope_in_assertion,
    },
    scopes: m.scopes,
    scopeSeparator,
    audience: m.audience,
    resource: m.resource,
    redirectUri: m.redirect_uri,
    pkce,
    username: m.username,
    password: m.password,
    tokenExchange: tokenExchange(m, grant),
    refreshToken: m.refresh_token,
    authorizationParams: fillParamTemplates(m.authorization_params, vars, joined),
    tokenParams: fillParamTemplates(m.token_params, vars, joined),
    refreshParams: fillParamTemplates(m.refresh_params, vars, joined),
    tokenHeaders: m.token_headers ?? {},
    tokenBody: m.token_body ?? "form",
    response: m.response,
    header: { name: m.header?.name ?? "Authorization", value: m.header?.value ?? "Bearer {token}" },
    headerSet: m.header !== undefined,
    allowedOrigins: m.allowed_origins,
    apiRetry: m.api_retry ? { max: m.api_retry.max ?? DEFAULT_API_RETRY.max, on: m.api_retry.on ?? [...DEFAULT_API_RETRY.on] } : undefined,
    refreshMarginMs: m.refresh_margin === undefined ? undefined : parseDuration(m.refresh_margin, field("refresh_margin")),
    defaultTtl: parseTtl(m.default_ttl ?? DEFAULT_TTL_S, field("default_ttl")),
    cache,
    timeoutMs: parseDuration(m.timeout ?? DEFAULT_TIMEOUT_S, field("timeout")),
    allowInsecureHttp: m.allow_insecure_http ?? false,
    testUrl: m.test_url,
    baseUrl: m.base_url,
    vars,
  };
  return { connection, warnings };
}

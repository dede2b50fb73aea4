import { JSONPath } from "jsonpath-plus";
import { JSONPATH_HINT, jsonPathProblem } from "./jsonpath.js";
import { TokenSmithError } from "../errors.js";
import { redact, stripControls } from "../redact.js";
import { oauthError, oauthErrorFields } from "./oauth-error.js";
import { SECRET_KEY, bodyExcerpt, invalidResponse, isPlainObject, parseBody} from "./response.js";
import type { OAuthClient, ReceivedResponse, TokenSet } from "./types.js";
import { fieldPath } from "./urls.js";

/**
 * Token endpoint responses (RFC 6749 §5.1/§5.2) and the ways real servers deviate from them
 * (PROVIDERS.md): form-encoded bodies, nested tokens behind a `response` mapping, string
 * `expires_in`, `expires_at`, lowercase `bearer`, errors with status 200.
 */
const WHAT = "token endpoint";

/** What reading a token response needs of the client: its name (for errors) and its response settings. */
type ReadingClient = Pick<OAuthClient, "name" | "response">;

/** The standard fields; everything else non-secret goes to `extra`. */
const STANDARD_FIELDS = ["access_token", "token_type", "expires_in", "expires_at", "refresh_token", "scope", "id_token"] as const;
type StandardField = (typeof STANDARD_FIELDS)[number];

const MS_PER_S = 1000;
/**
 * The most of a response's other fields (`extra`, serialized) that is stored and printed
 * (SPEC §2.19): Salesforce's `instance_url` or Strava's `athlete` are a few hundred bytes.
 */
export const MAX_EXTRA_BYTES = 16 * 1024;
/** RFC 3339 date-time, the only date form we accept in `expires_at` (no locale-dependent parsing). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const NUMERIC = /^\s*\d+(\.\d+)?\s*$/;

/**
 * Turns a token endpoint response into a TokenSet, or throws: `oauth_error` for an OAuth error
 * body at any status, `invalid_response` for anything else that is not a token response.
 * Pure; errors name the URL and never show a token or secret from either side.
 */
export function processTokenResponse(client: ReadingClient, response: ReceivedResponse, options: { now?: () => number } = {}): TokenSet {
  const parsed = parseBody(response, WHAT);
  const error = oauthErrorFields(parsed);
  if (error) throw oauthError(WHAT, response, error, options.now);
  if (response.status < 200 || response.status >= 300) throw invalidResponse(WHAT, response, parsed, { now: options.now });
  if (parsed.kind !== "object") throw invalidResponse(WHAT, response, parsed, { hint: "this is not a token response: check token_url" });
  if (parsed.value.error !== undefined && parsed.value.error !== null) {
    throw invalidResponse(WHAT, response, parsed, { problem: `an error instead of a token: ${bodyExcerpt(response, parsed)}` });
  }
  return toTokenSet(client, parsed.value, (problem, hint) => {
    throw invalidResponse(WHAT, response, parsed, { problem, hint: hint ?? "this is not a usable token response: check token_url and the response mapping" });
  });
}

/** Throws `invalid_response` for this response; validators `return fail(...)`. */
type Fail = (problem: string, hint?: string) => never;

/**
 * A mapped field's value; a path outside the subset jsonpath.ts reads is the
 * configuration's fault (checked at load too, but a `${...}` reference is only known now).
 * Evaluated with `eval: false`: no filter or script expression ever runs.
 */
function mapped(client: ReadingClient, body: Record<string, unknown>, field: StandardField): unknown {
  const path = client.response.mapping?.[field];
  if (!path) return body[field];
  const unusable = (problem: string, cause?: unknown) =>
    new TokenSmithError("config_invalid", `response.${field} is not a usable JSONPath expression (${problem}): ${JSON.stringify(path)}`, {
      field: fieldPath(client.name, `response.${field}`),
      connection: client.name,
      hint: `use ${JSONPATH_HINT}`,
      cause,
    });
  const problem = jsonPathProblem(path);
  if (problem) throw unusable(problem);
  try {
    return JSONPath({ path, json: body, wrap: false, eval: false });
  } catch (cause) {
    throw unusable("it cannot be evaluated", cause);
  }
}

function toTokenSet(client: ReadingClient, body: Record<string, unknown>, fail: Fail): TokenSet {
  const mapping = client.response.mapping;
  const pick = (field: StandardField): unknown => mapped(client, body, field);
  const accessToken = pick("access_token");
  if (accessToken === undefined || accessToken === null) {
    const fields = redact(Object.keys(body).slice(0, 12).join(", ")) || "none";
    const where = mapping?.access_token ? `nothing at ${mapping.access_token}` : "no access_token";
    return fail(`${where} (fields: ${fields})`);
  }
  if (typeof accessToken !== "string" || accessToken === "") return fail(`an access_token that is not a non-empty string (${typeof accessToken})`);

  // token_type and scope are printed and shown (status, dashboard): server text, controls removed (§2.14).
  const type = pick("token_type");
  const tokens: TokenSet = { accessToken, tokenType: tokenType(client, typeof type === "string" ? stripControls(type) : type, fail), extra: {} };
  const refreshToken = optionalString(pick("refresh_token"), "refresh_token", fail);
  if (refreshToken !== undefined) tokens.refreshToken = refreshToken;
  const idToken = optionalString(pick("id_token"), "id_token", fail);
  if (idToken !== undefined) tokens.idToken = idToken;
  const scope = scopeOf(pick("scope"), fail);
  if (scope !== undefined) tokens.scope = stripControls(scope);
  const expiresInMs = expiresIn(pick("expires_in"), fail);
  if (expiresInMs !== undefined) {
    tokens.expiresInMs = expiresInMs;
    if (expiresInMs % MS_PER_S === 0) tokens.resolutionMs = MS_PER_S;
  }
  const expiresAtMs = expiresAt(pick("expires_at"), mapping?.expires_at_unit ?? "s", fail);
  if (expiresAtMs !== undefined) tokens.expiresAtMs = expiresAtMs;

  const hidden = [accessToken, refreshToken, idToken].filter((v): v is string => v !== undefined);
  tokens.extra = extraFields(body, new Set(STANDARD_FIELDS), hidden);
  const extraBytes = Buffer.byteLength(JSON.stringify(tokens.extra));
  if (extraBytes > MAX_EXTRA_BYTES) {
    return fail(`${extraBytes} bytes of fields besides the token, more than the ${MAX_EXTRA_BYTES} kept as extra`, "this is not a usable token response: check token_url");
  }
  return tokens;
}

/** Longest token_type quoted in an error: type names are short; anything longer is not one. */
const MAX_TYPE_SHOWN = 40;

/**
 * RFC 6749 §7.1: a client must not use a token whose type it does not understand. `Bearer`
 * matches in any case (§5.1; GitHub sends `bearer`) and a missing type counts as Bearer; any
 * other type (`DPoP`, `mac`, RFC 8693's `N_A`, ...) is refused unless the connection's `header`
 * says how to send it (SPEC §2.13), and is then kept as sent.
 */
function tokenType(client: ReadingClient, value: unknown, fail: Fail): string {
  if (value === undefined || value === null || value === "") return "Bearer";
  if (typeof value !== "string") return fail(`a token_type that is not a string (${typeof value})`);
  if (value.toLowerCase() === "bearer") return "Bearer";
  if (client.response.anyTokenType) return value;
  const shown = JSON.stringify(value.length > MAX_TYPE_SHOWN ? `${value.slice(0, MAX_TYPE_SHOWN)}…` : value);
  return fail(
    `a token of type ${shown}, which tokensmith does not know how to send (it sends Bearer tokens)`,
    `a token of an unknown type is never used (RFC 6749 §7.1); if the API takes it, set this connection's header, e.g. header: {name: Authorization, value: "${value.length <= MAX_TYPE_SHOWN && /^[\w.-]+$/.test(value) ? value : "Type"} {token}"}`,
  );
}

function optionalString(value: unknown, field: string, fail: Fail): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") return fail(`a ${field} that is not a string (${typeof value})`);
  return value;
}

/** Space-separated per RFC 6749 §3.3; some servers send an array. An empty string is kept (GitHub Apps). */
function scopeOf(value: unknown, fail: Fail): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.every((s) => typeof s === "string")) return value.join(" ");
  return fail(`a scope that is neither a string nor a list of strings (${typeof value})`);
}

/**
 * `expires_in` as a number or numeric string (PayPal, Azure AD v1). Zero counts as "not given",
 * as golang/oauth2 does: some servers send 0 for tokens that do not expire.
 */
function expiresIn(value: unknown, fail: Fail): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const seconds = typeof value === "number" ? value : typeof value === "string" && NUMERIC.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(seconds) || seconds < 0) return fail(`an invalid expires_in (${typeof value === "number" ? value : typeof value})`);
  return seconds === 0 ? undefined : Math.round(seconds * MS_PER_S);
}

/** `expires_at` as epoch seconds (or ms with `expires_at_unit: ms`), number or string, or RFC 3339. */
function expiresAt(value: unknown, unit: "s" | "ms", fail: Fail): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const scale = unit === "ms" ? 1 : MS_PER_S;
  if (typeof value === "number" && Number.isFinite(value) && value > 0) return Math.round(value * scale);
  if (typeof value === "string" && NUMERIC.test(value) && Number(value) > 0) return Math.round(Number(value) * scale);
  if (typeof value === "string" && RFC3339.test(value.trim())) {
    const at = Date.parse(value.trim());
    if (!Number.isNaN(at)) return at;
  }
  return fail("an invalid expires_at (expected epoch seconds or an RFC 3339 date)");
}

/**
 * Fields whose names contain "token" but describe one rather than hold it: RFC 8693's
 * `issued_token_type`, GitHub's and others' `refresh_token_expires_in`.
 */
const TOKEN_METADATA_KEY = /_type$|_expires_in$|_expires_at$/i;
/** A short plain value (a number, a URN, a type name): never a token. */
const PLAIN_VALUE = /^[\w.:/-]{0,100}$/;
const isSecretKey = (key: string, value: unknown) =>
  SECRET_KEY.test(key) && !(TOKEN_METADATA_KEY.test(key) && (typeof value === "number" || PLAIN_VALUE.test(String(value))));

/**
 * The response's other fields, for `token --json` → `extra` (Salesforce `instance_url`,
 * Strava `athlete`). Secret-named fields are dropped at every depth, and so is any value equal
 * to a token we extracted (a mapping may have found it under an innocent name).
 */
function extraFields(body: Record<string, unknown>, skip: Set<string>, hidden: string[]): Record<string, unknown> {
  const clean = (value: unknown): unknown => {
    if (typeof value === "string") return hidden.includes(value) ? undefined : value;
    if (Array.isArray(value)) return value.map(clean).filter((v) => v !== undefined);
    if (!isPlainObject(value)) return value;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (isSecretKey(key, item)) continue;
      const cleaned = clean(item);
      if (cleaned !== undefined) out[key] = cleaned;
    }
    return out;
  };
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (skip.has(key) || isSecretKey(key, value)) continue;
    const cleaned = clean(value);
    if (cleaned !== undefined) extra[key] = cleaned;
  }
  return extra;
}


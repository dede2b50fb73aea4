import { createHash } from "node:crypto";

/**
 * Redaction is one function used everywhere (STYLE §6): every string that may have come from
 * a server or a user goes through `redact()` before it reaches a message, a log or the
 * terminal. Known secret values are registered with `registerSecret()` as they are resolved,
 * so even a server that echoes a secret back in an error page cannot make us print it.
 */
const secrets = new Set<string>();
const MIN_SECRET_LENGTH = 4; // shorter values would redact ordinary words

export function registerSecret(value: string | undefined | null): void {
  if (typeof value !== "string" || value.length < MIN_SECRET_LENGTH) return;
  secrets.add(value);
  // Secrets also travel percent-encoded (form bodies) and base64-encoded (Basic headers).
  secrets.add(encodeURIComponent(value));
  secrets.add(formEncode(value));
}

/**
 * `application/x-www-form-urlencoded` as URLSearchParams writes it (everything but
 * alphanumerics and `*-._` percent-encoded, spaces as `+`), without loading URLSearchParams
 * in every CLI run.
 */
function formEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+");
}

const FIELD_NAMES = "access_token|refresh_token|id_token|client_secret|password|assertion|client_assertion|code|code_verifier|device_code|token|secret|key";
/** `"name": "value"` in JSON and `name=value` in forms and URLs; prose like "password grant" is left alone. */
const JSON_FIELD = new RegExp(`("(?:${FIELD_NAMES})"\\s*:\\s*")([^"]*)`, "gi");
const FORM_FIELD = new RegExp(`(\\b(?:${FIELD_NAMES})=)([^&\\s"]+)`, "gi");
/**
 * An Authorization header's credentials. At least 8 characters: real credentials are longer,
 * and prose like "client_auth (basic or post)" or "a Bearer token" must stay readable.
 */
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/=]{8,}/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join("[redacted]");
  }
  return out.replace(JSON_FIELD, "$1[redacted]").replace(FORM_FIELD, "$1[redacted]").replace(BEARER, "$1 [redacted]").replace(JWT, "[redacted-jwt]");
}

/** A short, stable, non-reversible id for a secret value (cache keys, compare-and-invalidate). */
export function hashSecret(value: string): string {
  return createHash("sha256").update(value).digest("base64url").slice(0, 22);
}

/** Text cut to a length fit for an error message, redacted. */
export function excerpt(text: string, max = 200): string {
  const flat = redact(text).replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

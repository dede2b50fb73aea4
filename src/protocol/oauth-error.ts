import { TokenSmithError } from "../errors.js";
import { excerpt, redact } from "../redact.js";
import { displayUrl, retryAfterSeconds, type ParsedBody } from "./response.js";
import type { ReceivedResponse } from "./types.js";

/**
 * OAuth error responses (RFC 6749 §5.2, RFC 7009 §2.2.1, RFC 8628 §3.5), including the ones
 * sent with status 200 (SPEC §2.10) and Slack's `{ok: false, error}`.
 */
export interface OAuthErrorFields {
  error: string;
  errorDescription?: string;
  errorUri?: string;
}

/** What to check for the common error codes: the user's next step, not a restatement. */
export const OAUTH_ERROR_HINTS: Readonly<Record<string, string>> = {
  invalid_client:
    "the server did not accept the client: check client_id and client_secret, and client_auth (basic or post); for basic, try basic_encoding: raw if the id or secret has anything but letters and digits (the server may not URL-decode them)",
  invalid_grant:
    "the grant was refused: a refresh token may have expired, been revoked, or been rotated by another process or machine; a code may have been used already or expired",
  invalid_scope: "a requested scope is unknown or not allowed for this client: check scopes and the client's registration",
  unauthorized_client: "this client is not allowed to use this grant type: enable it in the client's registration at the provider",
  unsupported_grant_type: "the server does not support this grant type: check grant (and grant_type) against the provider's documentation",
  invalid_request: "the server found the request malformed: check token_params, scopes, redirect_uri and client_auth",
  access_denied: "the user or an administrator refused the authorization",
};

/** Description text from a server is shown redacted and short; servers do echo inputs. */
const DESCRIPTION_CHARS = 200;

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * The OAuth error in a parsed body, if it is one: a string `error`, or Slack's `ok: false`.
 * A non-string `error` (some APIs send an object) is not an OAuth error; callers treat it as
 * an invalid response.
 */
export function oauthErrorFields(parsed: ParsedBody): OAuthErrorFields | undefined {
  if (parsed.kind !== "object") return undefined;
  const body = parsed.value;
  const error = typeof body.error === "string" ? body.error : body.ok === false ? "unknown_error" : undefined;
  if (error === undefined) return undefined;
  const errorDescription = optionalString(body.error_description) ?? optionalString(body.message) ?? optionalString(body.warning);
  return {
    error: redact(error === "" ? "unknown_error" : error).slice(0, DESCRIPTION_CHARS),
    errorDescription: errorDescription === undefined ? undefined : excerpt(errorDescription, DESCRIPTION_CHARS),
    errorUri: optionalString(body.error_uri) === undefined ? undefined : redact(body.error_uri as string),
  };
}

/** `oauth_error` naming the endpoint, the RFC fields, and a hint for the common codes. */
export function oauthError(what: string, response: ReceivedResponse, fields: OAuthErrorFields, now?: () => number): TokenSmithError {
  const url = displayUrl(response.url);
  const detail = fields.errorDescription ? `${fields.error} (${fields.errorDescription})` : fields.error;
  return new TokenSmithError("oauth_error", `${what} ${url} refused the request: ${detail}`, {
    status: response.status,
    error: fields.error,
    errorDescription: fields.errorDescription,
    errorUri: fields.errorUri,
    url,
    retryAfter: retryAfterSeconds(response.headers, now),
    hint: OAUTH_ERROR_HINTS[fields.error],
  });
}

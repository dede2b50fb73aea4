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

/**
 * The one table of the common OAuth error codes: `hint` is the user's next step, shown on the
 * error; `cause` the likely reason, shown by `tokensmith test` (diagnose).
 */
export const OAUTH_ERRORS: Readonly<Record<string, { hint: string; cause?: string }>> = {
  invalid_client: {
    hint: "the server did not accept the client: check client_id and client_secret, and client_auth (basic or post); for basic, try basic_encoding: raw if the id or secret has anything but letters and digits (the server may not URL-decode them)",
    cause:
      "the server did not accept the client credentials: a wrong client_id or client_secret, or the wrong client_auth style (try client_auth: post, or basic_encoding: raw)",
  },
  invalid_grant: {
    hint: "the grant was refused: a refresh token may have expired, been revoked, or been rotated by another process or machine; a code may have been used already or expired",
    cause: "the grant (refresh token, code, password or assertion) is expired, revoked or was rotated elsewhere",
  },
  invalid_scope: {
    hint: "a requested scope is unknown or not allowed for this client: check scopes and the client's registration",
    cause: "a requested scope is unknown to the server or not allowed for this client",
  },
  unauthorized_client: {
    hint: "this client is not allowed to use this grant type: enable it in the client's registration at the provider",
    cause: "this client is not allowed to use this grant type: check the app's settings at the provider",
  },
  unsupported_grant_type: {
    hint: "the server does not support this grant type: check grant (and grant_type) against the provider's documentation",
    cause: "the server does not support this grant type at this endpoint",
  },
  invalid_request: {
    hint: "the server found the request malformed: check token_params, scopes, redirect_uri and client_auth",
    cause: "the server rejected the request's parameters: check token_params, audience and resource",
  },
  access_denied: { hint: "the user or an administrator refused the authorization" },
};

/** The hints alone, by error code. */
export const OAUTH_ERROR_HINTS: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(OAUTH_ERRORS).map(([code, entry]) => [code, entry.hint]));

/** The likely cause of an OAuth error code, for a diagnosis; undefined for codes without one. */
export function oauthErrorCause(error: string): string | undefined {
  return Object.hasOwn(OAUTH_ERRORS, error) ? OAUTH_ERRORS[error]!.cause : undefined;
}

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
    hint: Object.hasOwn(OAUTH_ERRORS, fields.error) ? OAUTH_ERRORS[fields.error]!.hint : undefined,
  });
}

import { timingSafeEqual } from "node:crypto";
import { TokenSmithError } from "../errors.js";
import { excerpt, registerSecret } from "../redact.js";

/**
 * The authorization response (RFC 6749 §4.1.2), checked before its code is used: `state`
 * binds it to this login (CSRF, RFC 9700 §4.7), `iss` (RFC 9207) to this authorization server
 * (mix-up attacks), then an `error` is reported or the code returned. Pure: the loopback
 * listener and the manual paste both end here.
 */

/** What this login expects of its authorization response. */
export interface ExpectedResponse {
  connection: string;
  state: string;
  /** The issuer, as named in messages; undefined when none is known. */
  issuer?: string;
  /** True when `iss` names the expected issuer (configured, discovered or the preset's template). */
  isIssuer(iss: string): boolean;
  /** The metadata says the server always sends `iss` (`authorization_response_iss_parameter_supported`). */
  issRequired: boolean;
}

/** Codes set on the refusals this module raises (`error` of an `oauth_error`). */
export const STATE_MISMATCH = "state_mismatch";
export const ISS_MISMATCH = "iss_mismatch";

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function refuse(expected: ExpectedResponse, error: string, message: string, hint: string): TokenSmithError {
  return new TokenSmithError("oauth_error", `connection "${expected.connection}": ${message}`, { connection: expected.connection, error, hint });
}

/** RFC 9207 §2.4: a present `iss` must be the issuer; an absent one is refused when the server says it always sends it. */
function checkIss(params: URLSearchParams, expected: ExpectedResponse): void {
  const iss = params.get("iss");
  if (iss === null) {
    if (!expected.issRequired) return;
    throw refuse(expected, ISS_MISMATCH, "the authorization response has no iss, which this server always sends (RFC 9207)", "a mix-up attack or a proxy that drops parameters; the code was not used: run the login again");
  }
  if (!expected.isIssuer(iss)) {
    throw refuse(
      expected,
      ISS_MISMATCH,
      `the authorization response comes from issuer ${excerpt(iss, 100)}, not ${expected.issuer ?? "the configured one"} (RFC 9207)`,
      "a mix-up attack, or the wrong issuer configured; the code was not used",
    );
  }
}

/**
 * Checks a response and returns its code: state (missing or wrong → `state_mismatch`), then
 * `iss`, then an `error` redirect (reported with its description; `access_denied` included).
 */
export function checkAuthorizationResponse(params: URLSearchParams, expected: ExpectedResponse): string {
  const code = params.get("code");
  registerSecret(code, { rotating: true });
  const state = params.get("state");
  if (state === null || state === "") {
    throw refuse(expected, STATE_MISMATCH, "the authorization response has no state", "it may be forged, or the server drops state; the code was not used: run the login again");
  }
  if (!sameText(state, expected.state)) {
    throw refuse(
      expected,
      STATE_MISMATCH,
      "the authorization response's state does not match this login",
      "a stale, replayed or forged redirect (another login's tab?); the code was not used: run the login again",
    );
  }
  checkIss(params, expected);
  const error = params.get("error");
  if (error !== null) throw authorizationError(expected.connection, error, params);
  if (!code) {
    throw new TokenSmithError("oauth_error", `connection "${expected.connection}": the authorization response carries neither a code nor an error`, {
      connection: expected.connection,
      hint: "check that redirect_uri is where the provider sends the browser back, with its query intact",
    });
  }
  return code;
}

/** An `error` redirect (RFC 6749 §4.1.2.1) as an `oauth_error` with its description. */
export function authorizationError(connection: string, error: string, params: URLSearchParams): TokenSmithError {
  const description = params.get("error_description") ?? undefined;
  const uri = params.get("error_uri") ?? undefined;
  const shownError = excerpt(error, 60);
  const shownDescription = description === undefined ? undefined : excerpt(description, 300);
  return new TokenSmithError("oauth_error", `connection "${connection}": the authorization server answered ${shownError}${shownDescription ? `: ${shownDescription}` : ""}`, {
    connection,
    error: shownError,
    errorDescription: shownDescription,
    errorUri: uri === undefined ? undefined : excerpt(uri, 300),
    hint:
      error === "access_denied"
        ? "the authorization was declined (or cancelled) at the provider; run the login again to retry"
        : "check the connection's client_id, scopes, redirect_uri and authorization_params against the provider's settings",
  });
}

/** What was pasted in the manual flow: a redirected URL (or its query), or a bare code. */
export type PastedResponse = { kind: "url"; params: URLSearchParams } | { kind: "code"; code: string };

/** The parameters a pasted query must have one of to be taken for a redirect rather than a code. */
const RESPONSE_PARAMS = ["code", "state", "error", "iss"];

/**
 * Reads one pasted line: a full URL (the query, or the fragment for `response_mode=fragment`),
 * a bare query string, or the code alone. A bare code carries no state, so it skips that check.
 */
export function parsePastedResponse(text: string, connection: string): PastedResponse {
  const line = text.trim();
  if (line === "") {
    throw new TokenSmithError("usage_error", `connection "${connection}": nothing was pasted`, {
      connection,
      hint: "paste the whole URL the browser was redirected to (or the code alone), then press Enter",
    });
  }
  const hasResponse = (params: URLSearchParams) => RESPONSE_PARAMS.some((name) => params.has(name));
  if (/^[a-z][a-z0-9+.-]*:/i.test(line) && /[?#]/.test(line) && URL.canParse(line)) {
    const url = new URL(line);
    const fromFragment = new URLSearchParams(url.hash.slice(1));
    return { kind: "url", params: hasResponse(url.searchParams) || !hasResponse(fromFragment) ? url.searchParams : fromFragment };
  }
  const query = new URLSearchParams(line.replace(/^[?#]/, ""));
  if (line.includes("=") && hasResponse(query)) return { kind: "url", params: query };
  if (/\s/.test(line)) {
    throw new TokenSmithError("usage_error", `connection "${connection}": the pasted text is neither a URL nor a code`, {
      connection,
      hint: "paste the whole URL from the browser's address bar (or the code alone) on one line",
    });
  }
  registerSecret(line, { rotating: true });
  return { kind: "code", code: line };
}

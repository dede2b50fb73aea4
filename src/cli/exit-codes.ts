import { isTransient, TokenSmithError, type ErrorCode } from "../errors.js";

/** SPEC §3's exit-code table: scripts branch on these, so they never change. */
export const EXIT = {
  ok: 0,
  bug: 1,
  usage: 2,
  refused: 3,
  unavailable: 4,
  httpError: 5,
} as const;

const BY_CODE: Record<ErrorCode, number> = {
  config_invalid: EXIT.usage,
  config_untrusted: EXIT.usage,
  usage_error: EXIT.usage,
  not_supported: EXIT.usage,
  port_in_use: EXIT.usage,
  oauth_error: EXIT.refused,
  reauthorization_required: EXIT.refused,
  login_in_progress: EXIT.refused,
  login_timeout: EXIT.refused,
  network_error: EXIT.unavailable,
  timeout: EXIT.unavailable,
  lock_timeout: EXIT.unavailable,
  store_error: EXIT.unavailable,
  invalid_response: EXIT.unavailable,
  http_error: EXIT.httpError,
  unexpected: EXIT.bug,
};

export function exitCodeOf(err: unknown): number {
  if (!(err instanceof TokenSmithError)) return EXIT.bug;
  // A 401 that survived a refresh is a refusal, not an ordinary HTTP error (SPEC §3); one for
  // insufficient_scope never had a refresh (§2.11), so it is the API's answer like a 403.
  if (err.code === "http_error" && err.status === 401 && err.error !== "insufficient_scope") return EXIT.refused;
  // `503 temporarily_unavailable` is the server being unavailable, not refusing (still so after retries).
  if (err.code === "oauth_error" && isTransient(err)) return EXIT.unavailable;
  return BY_CODE[err.code] ?? EXIT.bug;
}

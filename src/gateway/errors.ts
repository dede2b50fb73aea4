import type { ServerResponse } from "node:http";
import { redactedJSON, toTokenSmithError, type ErrorCode, TokenSmithError } from "../errors.js";
import { redact, redactMessage } from "../redact.js";
import { sendJson } from "./http.js";

/**
 * How the gateway reports errors (SPEC §5): `{"error": {code, message, hint, connection}}` with an HTTP
 * status a client can branch on. Library errors keep their stable codes and OAuth fields
 * (redacted, like `--json` output); the gateway's own refusals have codes of their own.
 */

/** The gateway's own refusals, not failures of a connection. */
export type GatewayErrorCode =
  | "unauthorized"
  | "forbidden"
  | "csrf_failed"
  | "host_not_allowed"
  | "cannot_authorize"
  | "not_found"
  | "method_not_allowed"
  | "bad_request";

/** A refusal by the gateway itself (auth, routing, input). */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly code: GatewayErrorCode,
    message: string,
    readonly hint?: string,
    /** The connection the refusal concerns, when it names one. */
    readonly connection?: string,
  ) {
    super(message);
    this.name = "GatewayError";
  }
}

/**
 * A library failure answered with a status of its own rather than its code's: an unknown
 * connection is the library's `config_invalid` (the same code as the CLI's), answered 404.
 */
export class RoutedError extends Error {
  constructor(
    readonly status: number,
    readonly error: TokenSmithError,
  ) {
    super(error.message, { cause: error });
    this.name = "RoutedError";
  }
}

/** HTTP status per library error code; anything unlisted is a 500. */
const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  reauthorization_required: 409,
  login_in_progress: 409,
  oauth_error: 502,
  invalid_response: 502,
  http_error: 502,
  network_error: 504,
  timeout: 504,
  login_timeout: 504,
  lock_timeout: 503,
  store_error: 503,
  usage_error: 400,
  not_supported: 400,
  config_invalid: 500,
  config_untrusted: 500,
  port_in_use: 500,
  unexpected: 500,
};

/** Status and JSON body for anything thrown while answering a request. */
export function errorResponse(err: unknown): { status: number; body: { error: Record<string, unknown> } } {
  if (err instanceof GatewayError) {
    return { status: err.status, body: { error: { code: err.code, message: err.message, hint: err.hint ?? null, connection: err.connection ?? null } } };
  }
  if (err instanceof RoutedError) return { status: err.status, body: { error: redactedJSON(err.error) } };
  const e = toTokenSmithError(err);
  return { status: STATUS_BY_CODE[e.code] ?? 500, body: { error: redactedJSON(e) } };
}

/** Answer with the error's status and JSON body. */
export function sendError(res: ServerResponse, err: unknown, headers: Record<string, string> = {}): void {
  const { status, body } = errorResponse(err);
  sendJson(res, status, body, headers);
}

/**
 * The operator's log line for a request answered with a 500: one line, redacted, with the
 * route, the code and the message (and the connection when known), e.g.
 * `GET /v1/connections/billing/token: 500 config_invalid [billing]: connections.billing...`.
 */
export function errorLogLine(error: TokenSmithError, request: { method: string; path: string }): string {
  const where = error.connection ? ` [${error.connection}]` : "";
  // The method and path are the client's (values); the message is tokensmith's words.
  return `${redact(request.method)} ${redact(request.path)}: 500 ${error.code}${where}: ${redactMessage(error.message)}`.replace(/\s+/g, " ").trim();
}

/** The stack behind an error (its cause's, when it wraps one), redacted; for `--verbose`. */
export function errorStack(error: TokenSmithError): string | undefined {
  const stack = error.cause instanceof Error ? error.cause.stack : error.stack;
  if (stack === undefined) return undefined;
  // A foreign error's stack holds its foreign message (untrusted); ours holds our words.
  return error.cause instanceof Error && !(error.cause instanceof TokenSmithError) ? redact(stack) : redactMessage(stack);
}

import { redact, redactMessage } from "./redact.js";

/**
 * One error class for everything tokensmith reports, with a stable `code`.
 * Messages never contain secrets: build them from names, URLs and OAuth error codes only,
 * and pass anything untrusted (server text, values, foreign error messages) through
 * `redact()` where it enters the message — never the composed message.
 */
/** Every stable error code, as scripts see them in `--json` errors and gateway answers. */
export const ERROR_CODES = [
  "config_invalid",
  "config_untrusted",
  "usage_error",
  "oauth_error",
  "reauthorization_required",
  "login_in_progress",
  "login_timeout",
  "invalid_response",
  "network_error",
  "timeout",
  "lock_timeout",
  "store_error",
  "http_error",
  "not_supported",
  "port_in_use",
  "unexpected",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface TokenSmithErrorOptions {
  connection?: string;
  hint?: string;
  /** HTTP status of the response that caused the error, where there was one. */
  status?: number;
  /** RFC 6749 §5.2 fields of an OAuth error response. */
  error?: string;
  errorDescription?: string;
  errorUri?: string;
  /** The URL or config field the error concerns (never with secrets in it). */
  url?: string;
  field?: string;
  /** Seconds the server asked us to wait (Retry-After), where given. */
  retryAfter?: number;
  cause?: unknown;
}

export class TokenSmithError extends Error {
  readonly code: ErrorCode;
  readonly connection?: string;
  readonly hint?: string;
  readonly status?: number;
  readonly error?: string;
  readonly errorDescription?: string;
  readonly errorUri?: string;
  readonly url?: string;
  readonly field?: string;
  readonly retryAfter?: number;

  constructor(code: ErrorCode, message: string, options: TokenSmithErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "TokenSmithError";
    this.code = code;
    this.connection = options.connection;
    this.hint = options.hint;
    this.status = options.status;
    this.error = options.error;
    this.errorDescription = options.errorDescription;
    this.errorUri = options.errorUri;
    this.url = options.url;
    this.field = options.field;
    this.retryAfter = options.retryAfter;
  }

  /** The RFC 6749 §5.2 field, under the name the wire uses. */
  get error_description(): string | undefined {
    return this.errorDescription;
  }

  /** The RFC 6749 §5.2 field, under the name the wire uses. */
  get error_uri(): string | undefined {
    return this.errorUri;
  }

  /** A copy that names the connection (errors from shared layers don't know it). */
  withConnection(connection: string): TokenSmithError {
    if (this.connection === connection) return this;
    const copy = new TokenSmithError(this.code, this.message, { ...this.options(), connection });
    copy.stack = this.stack;
    return copy;
  }

  /** A copy with another hint. */
  withHint(hint: string): TokenSmithError {
    const copy = new TokenSmithError(this.code, this.message, { ...this.options(), hint });
    copy.stack = this.stack;
    return copy;
  }

  private options(): TokenSmithErrorOptions {
    return {
      connection: this.connection,
      hint: this.hint,
      status: this.status,
      error: this.error,
      errorDescription: this.errorDescription,
      errorUri: this.errorUri,
      url: this.url,
      field: this.field,
      retryAfter: this.retryAfter,
      cause: this.cause,
    };
  }

  /** The JSON shape of the CLI's `--json` errors and the gateway's. */
  toJSON(): { code: ErrorCode; message: string; hint: string | null; connection: string | null } & Record<string, unknown> {
    const out: { code: ErrorCode; message: string; hint: string | null; connection: string | null } & Record<string, unknown> = {
      code: this.code,
      message: this.message,
      hint: this.hint ?? null,
      connection: this.connection ?? null,
    };
    if (this.status !== undefined) out.status = this.status;
    if (this.error !== undefined) out.error = this.error;
    if (this.errorDescription !== undefined) out.error_description = this.errorDescription;
    if (this.errorUri !== undefined) out.error_uri = this.errorUri;
    if (this.field !== undefined) out.field = this.field;
    if (this.url !== undefined) out.url = this.url;
    return out;
  }
}

/**
 * Fields of the JSON that hold tokensmith's own words and names from the config (a connection
 * named like a passphrase stays readable); every other string (`error`, `error_description`,
 * `error_uri`, `url`) is server text or a value.
 */
const OWN_WORDS = new Set(["code", "message", "hint", "connection", "field"]);

/**
 * The error's JSON (the CLI's `--json`, the gateway) as it leaves the process: its own words
 * through the `redactMessage()` safety net, values and server text through `redact()`.
 */
export function redactedJSON(e: TokenSmithError): ReturnType<TokenSmithError["toJSON"]> {
  const json = e.toJSON();
  for (const [key, value] of Object.entries(json)) {
    if (typeof value === "string") json[key] = OWN_WORDS.has(key) ? redactMessage(value) : redact(value);
  }
  return json;
}

/**
 * OAuth error codes that say "try again later" (RFC 6749 §4.1.2.1, used by token endpoints
 * too, e.g. Microsoft's 503 temporarily_unavailable), and the throttling codes some send.
 */
const TEMPORARY_OAUTH_ERRORS = new Set(["temporarily_unavailable", "server_error", "slow_down", "rate_limit_exceeded"]);

/**
 * True for errors worth retrying with backoff, because the server or the network may recover
 * (5xx, 429, timeouts, resets): also a 5xx or 429 that carries an OAuth error body,
 * and the OAuth codes that mean "temporarily", whatever their status.
 */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof TokenSmithError)) return false;
  if (err.code === "network_error" || err.code === "timeout") return true;
  if (err.code !== "invalid_response" && err.code !== "oauth_error" && err.code !== "http_error") return false;
  if (err.status !== undefined && (err.status >= 500 || err.status === 429)) return true;
  return err.code === "oauth_error" && err.error !== undefined && TEMPORARY_OAUTH_ERRORS.has(err.error);
}

/** Wrap anything thrown into a TokenSmithError, keeping the original as `cause`. */
export function toTokenSmithError(err: unknown, connection?: string): TokenSmithError {
  if (err instanceof TokenSmithError) return connection ? err.withConnection(connection) : err;
  const message = redact(err instanceof Error ? err.message : String(err));
  return new TokenSmithError("unexpected", `unexpected failure: ${message}`, {
    connection,
    hint: "this is a bug in tokensmith: please report it with the output of --verbose",
    cause: err,
  });
}

/*
 * One factory per error that is raised in more than one place (STYLE "One factory per error"):
 * the message says what and where, the hint what to do, in the same words everywhere.
 */

/** `lock_timeout`: the wait for another holder of the same state's update lease ran out. */
export function lockTimeout(holder?: string): TokenSmithError {
  return new TokenSmithError("lock_timeout", `timed out waiting for another update of the same token state${holder ? ` (held by ${holder})` : ""}`, {
    hint: "another caller holds the refresh lock; it is released when its token request ends",
  });
}

/** Where a failed send went: `what` names the kind of server ("token endpoint"), `url` is shown as given. */
export interface SendTarget {
  url: string;
  what?: string;
  connection?: string;
  hint?: string;
  cause?: unknown;
}

const NETWORK_HINT = "check the URL, the network and any proxy";

/** `network_error`: the server could not be reached; `reason` is tokensmith's words or already redacted text. */
export function networkError(target: SendTarget, reason: string): TokenSmithError {
  const where = target.what ? `${target.what} ${target.url}` : target.url;
  return new TokenSmithError("network_error", `cannot reach ${where}: ${reason}`, {
    connection: target.connection,
    url: target.url,
    hint: target.hint ?? NETWORK_HINT,
    cause: target.cause,
  });
}

/** `timeout`: no answer within `ms` (or, without it, within the transport's own limit named by `code`). */
export function timeoutError(target: SendTarget, limit: { ms: number } | { code?: string }): TokenSmithError {
  const where = target.what ? `${target.what} ${target.url}` : target.url;
  const within = "ms" in limit ? `within ${limit.ms} ms` : `in time${limit.code ? ` (${limit.code})` : ""}`;
  return new TokenSmithError("timeout", `${where} did not answer ${within}`, {
    connection: target.connection,
    url: target.url,
    hint: target.hint,
    cause: target.cause,
  });
}

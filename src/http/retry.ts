import type { ResolvedConnection } from "../config/types.js";

/**
 * Retries of API calls (`api_retry`): opt-in, per connection or per call. Only
 * statuses that say "try again later" (429, 503 by default), only for methods that may be sent
 * twice unless the caller says otherwise, honouring `Retry-After` up to a cap.
 */

/** Per-call retry settings; the connection's `api_retry` supplies what is left out. */
export interface ApiRetryOptions {
  /** Retries after the first attempt. */
  max?: number;
  /** Statuses worth retrying. Default [429, 503]. */
  on?: number[];
  /**
   * Retry POST, PATCH and other non-idempotent methods too. Only when the API deduplicates
   * them (an `Idempotency-Key` header, say): otherwise a retry may do the thing twice.
   */
  nonIdempotent?: boolean;
  /** The longest wait for one retry, ms; a `Retry-After` asking for more gives up instead. */
  maxDelayMs?: number;
}

/** @internal The settings one call runs with. */
export interface ApiRetryPolicy {
  max: number;
  on: readonly number[];
  nonIdempotent: boolean;
  maxDelayMs: number;
}

/** @internal Retries when `api_retry` or the call names none: the config's own default (SPEC §1). */
export const DEFAULT_API_RETRIES = 3;
/** @internal */
export const DEFAULT_API_RETRY_ON: readonly number[] = [429, 503];
/**
 * A server that wants more than a minute of quiet is better answered with its own 429 than by
 * a script hanging silently; the caller sees the status and decides.
 * @internal
 */
export const MAX_RETRY_DELAY_MS = 60_000;
/** @internal Backoff without `Retry-After`: full jitter from this base, doubling per attempt... */
export const RETRY_BASE_MS = 500;
/** @internal ...up to this, so three retries fit in well under a minute. */
export const RETRY_CAP_MS = 8_000;

/** RFC 9110 §9.2.2: methods whose repetition has the same effect as sending them once. */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

/** @internal */
export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method.toUpperCase());
}

/**
 * The policy for one call: the call's options over the connection's `api_retry`. Undefined
 * (no retries) when neither asks for them, or the call passes `false`.
 * @internal
 */
export function retryPolicy(
  conn: Pick<ResolvedConnection, "apiRetry">,
  call: ApiRetryOptions | false | undefined,
): ApiRetryPolicy | undefined {
  if (call === false || (!call && !conn.apiRetry)) return undefined;
  return {
    max: call?.max ?? conn.apiRetry?.max ?? DEFAULT_API_RETRIES,
    on: call?.on ?? conn.apiRetry?.on ?? DEFAULT_API_RETRY_ON,
    nonIdempotent: call?.nonIdempotent ?? false,
    maxDelayMs: call?.maxDelayMs ?? MAX_RETRY_DELAY_MS,
  };
}

/**
 * How long to wait before retry number `attempt` (1-based) of a response with `status`, or
 * undefined when it must not be retried: a status not in the policy, retries used up, a method
 * that is not idempotent, or a `Retry-After` longer than the cap.
 * @internal
 */
export function apiRetryDelay(
  policy: ApiRetryPolicy | undefined,
  request: { method: string; attempt: number },
  response: { status: number; retryAfter?: string | null },
  now: number,
  random: () => number = Math.random,
): number | undefined {
  if (!policy || !policy.on.includes(response.status) || request.attempt > policy.max) return undefined;
  if (!policy.nonIdempotent && !isIdempotent(request.method)) return undefined;
  const asked = parseRetryAfter(response.retryAfter, now);
  if (asked !== undefined) return asked <= policy.maxDelayMs ? asked : undefined;
  const exp = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** (request.attempt - 1));
  return Math.min(policy.maxDelayMs, Math.round(exp / 2 + random() * (exp / 2)));
}

/** @internal `Retry-After` (RFC 9110 §10.2.3) in ms: delay-seconds or an HTTP date; undefined if absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

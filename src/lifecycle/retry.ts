import { isTransient, TokenSmithError } from "../errors.js";

/**
 * Backoff for transient failures of token requests (5xx, 429, timeouts, resets; SPEC §2.7):
 * capped exponential with full jitter, honouring Retry-After, inside a bounded budget.
 * The sleep happens outside the store lease (§2.5): callers release, sleep, retake.
 */
export interface RetryPolicy {
  /** Attempts after the first. */
  retries: number;
  baseMs: number;
  capMs: number;
  /** No sleep, Retry-After included, may take longer than this in total. */
  budgetMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  retries: 3,
  baseMs: 250,
  capMs: 5_000,
  budgetMs: 15_000,
};

/**
 * OAuth error codes that say "try again later" (RFC 6749 §4.1.2.1, used by token endpoints
 * too, e.g. Microsoft's 503 temporarily_unavailable), and the throttling codes some send.
 */
const TEMPORARY_OAUTH_ERRORS = new Set(["temporarily_unavailable", "server_error", "slow_down", "rate_limit_exceeded"]);

/**
 * True for token request failures worth retrying (§2.7: 5xx, 429, timeouts, resets): what
 * `isTransient` says, plus a 5xx or 429 that carries an OAuth error body, and the OAuth
 * codes that mean "temporarily". Such an error is not remembered as a broken connection.
 */
export function isRetryable(err: unknown): boolean {
  if (isTransient(err)) return true;
  if (!(err instanceof TokenSmithError) || err.code !== "oauth_error") return false;
  if (err.status !== undefined && (err.status >= 500 || err.status === 429)) return true;
  return err.error !== undefined && TEMPORARY_OAUTH_ERRORS.has(err.error);
}

/** How long an OAuth error is remembered before the server is asked again (§2.7). */
export const OAUTH_ERROR_BACKOFF_MS = 30_000;

/**
 * The delay before retry number `attempt` (1-based), or undefined when the error is not
 * transient or the budget is spent.
 */
export function retryDelay(
  err: unknown,
  attempt: number,
  spentMs: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number | undefined {
  if (!isRetryable(err) || attempt > policy.retries) return undefined;
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** (attempt - 1));
  let delay = Math.round(exp / 2 + random() * (exp / 2));
  const retryAfter = err instanceof TokenSmithError ? err.retryAfter : undefined;
  if (retryAfter !== undefined) delay = Math.max(delay, retryAfter * 1000);
  if (spentMs + delay > policy.budgetMs) return undefined;
  return delay;
}

import type { Clock } from "../clock.js";
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
  if (!isTransient(err) || attempt > policy.retries) return undefined;
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** (attempt - 1));
  let delay = Math.round(exp / 2 + random() * (exp / 2));
  const retryAfter = err instanceof TokenSmithError ? err.retryAfter : undefined;
  if (retryAfter !== undefined) delay = Math.max(delay, retryAfter * 1000);
  if (spentMs + delay > policy.budgetMs) return undefined;
  return delay;
}

/**
 * Runs `attempt` until it succeeds or fails with an error that is not retried, sleeping the
 * backoff between attempts. `attempt` holds no lease while this sleeps (§2.5).
 */
export async function withRetries<T>(attempt: () => Promise<T>, clock: Pick<Clock, "now" | "sleep">, policy: RetryPolicy = DEFAULT_RETRY, signal?: AbortSignal): Promise<T> {
  const started = clock.now();
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      const delay = retryDelay(err, n, clock.now() - started, policy);
      if (delay === undefined) throw err;
      await clock.sleep(delay, signal);
    }
  }
}

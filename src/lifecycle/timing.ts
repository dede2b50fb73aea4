/**
 * Expiry arithmetic (SPEC §2.10 and `refresh_margin` in §1), in one place so the cache, the
 * benchmarks and the tests agree on what "valid" and "due for refresh" mean.
 */

/** Clock skew allowance: at most 10 s, and never more than 10% of a short token's life. */
export const MAX_SKEW_MS = 10_000;
export const SKEW_FRACTION = 0.1;
/** Default refresh margin: the smaller of 60 s and 10% of the lifetime... */
export const DEFAULT_MARGIN_MS = 60_000;
export const DEFAULT_MARGIN_FRACTION = 0.1;
/** ...and never more than half the lifetime, or short tokens would refresh in a loop. */
export const MAX_MARGIN_FRACTION = 0.5;

/** When a token was obtained and how long the server said it lives. */
export interface Lifetime {
  /** Epoch ms when the token request was sent (lifetime counts from here). */
  issuedAt: number;
  /** Epoch ms the server's lifetime ends (issuedAt + expires_in); null = never expires. */
  expiresAt: number | null;
}

export function skewMs(lifetimeMs: number): number {
  return Math.min(MAX_SKEW_MS, lifetimeMs * SKEW_FRACTION);
}

export function marginMs(lifetimeMs: number, configuredMarginMs?: number): number {
  const wanted = configuredMarginMs ?? Math.min(DEFAULT_MARGIN_MS, lifetimeMs * DEFAULT_MARGIN_FRACTION);
  return Math.min(wanted, lifetimeMs * MAX_MARGIN_FRACTION);
}

/** The last moment the token is handed out: expiry less the skew allowance. */
export function usableUntil(t: Lifetime): number {
  if (t.expiresAt === null) return Infinity;
  return t.expiresAt - skewMs(Math.max(0, t.expiresAt - t.issuedAt));
}

/** When a long-running process starts its background refresh. */
export function refreshAt(t: Lifetime, configuredMarginMs?: number): number {
  if (t.expiresAt === null) return Infinity;
  const lifetime = Math.max(0, t.expiresAt - t.issuedAt);
  return usableUntil(t) - marginMs(lifetime, configuredMarginMs);
}

/** The fewest token requests a run of `runMs` needs (SPEC §2.10), for tests and benchmarks. */
export function minimumTokenRequests(runMs: number, lifetimeMs: number, configuredMarginMs?: number): number {
  const usable = lifetimeMs - skewMs(lifetimeMs) - marginMs(lifetimeMs, configuredMarginMs);
  return Math.ceil(runMs / usable);
}

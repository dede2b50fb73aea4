/**
 * Expiry arithmetic (token lifetimes and `refresh_margin`), in one place so the cache, the
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
/**
 * A whole-number `expires_in` is only good to the second: servers floor their clock when they
 * stamp `iat` (oidc-provider's "2 s" token dies between 1 and 2 s after issue), so one second
 * is counted off it.
 */
export const WHOLE_SECOND_RESOLUTION_MS = 1_000;

/** When a token was obtained and how long the server said it lives. */
export interface Lifetime {
  /** Epoch ms when the token request was sent (lifetime counts from here). */
  issuedAt: number;
  /** Epoch ms the server's lifetime ends (issuedAt + expires_in); null = never expires. */
  expiresAt: number | null;
  /** How much earlier the server may end it, for the resolution of `expires_in` (ms; 0 when unknown). */
  resolutionMs?: number;
}

export function skewMs(lifetimeMs: number): number {
  return Math.min(MAX_SKEW_MS, lifetimeMs * SKEW_FRACTION);
}

export function marginMs(lifetimeMs: number, configuredMarginMs?: number): number {
  const wanted = configuredMarginMs ?? Math.min(DEFAULT_MARGIN_MS, lifetimeMs * DEFAULT_MARGIN_FRACTION);
  return Math.min(wanted, lifetimeMs * MAX_MARGIN_FRACTION);
}

/** The last moment the token is handed out: expiry less the resolution and the skew allowance. */
export function usableUntil(t: Lifetime): number {
  if (t.expiresAt === null) return Infinity;
  return t.expiresAt - (t.resolutionMs ?? 0) - skewMs(Math.max(0, t.expiresAt - t.issuedAt));
}

/** When a long-running process starts its background refresh. */
export function refreshAt(t: Lifetime, configuredMarginMs?: number): number {
  if (t.expiresAt === null) return Infinity;
  const lifetime = Math.max(0, t.expiresAt - t.issuedAt);
  return usableUntil(t) - marginMs(lifetime, configuredMarginMs);
}

/**
 * The fewest token requests a run of `runMs` needs, for tests and benchmarks:
 * ceil(T / (lifetime − 1 s − skew − margin)) for a whole-number `expires_in`, e.g. 17 for 10 s
 * of 2-second tokens. Infinity when such a token is never usable past its first caller.
 */
export function minimumTokenRequests(runMs: number, lifetimeMs: number, configuredMarginMs?: number, resolutionMs = WHOLE_SECOND_RESOLUTION_MS): number {
  const usable = lifetimeMs - resolutionMs - skewMs(lifetimeMs) - marginMs(lifetimeMs, configuredMarginMs);
  return usable > 0 ? Math.ceil(runMs / usable) : Infinity;
}

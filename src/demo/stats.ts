import type { Middleware } from "oidc-provider";

/**
 * What the demo server saw, for tests and benchmarks: SPEC §2.10 measures tokensmith against
 * the minimum number of token requests, and rotation tests need to know whether the server
 * detected a reused refresh token. The object is live (mutated in place), so a reference
 * taken once stays current; `reset()` empties it in place too.
 */
export interface DemoStats {
  /** Token endpoint requests in total. */
  tokenRequests: number;
  /** Token requests by `grant_type` as sent (e.g. `urn:ietf:params:oauth:grant-type:device_code`); `(none)` when absent. */
  byGrant: Record<string, number>;
  /** Token requests by outcome: `ok`, or the OAuth error code (`invalid_grant`, `slow_down`, ...). */
  byOutcome: Record<string, number>;
  /** Refresh tokens presented again after rotation; each one revoked its whole grant. */
  refreshReuseDetected: number;
  /** Token requests in order (the latest MAX_TIMELINE_ENTRIES; the counters count them all). */
  timeline: TimelineEntry[];
  /** Hits per oidc-provider route name (`token`, `revocation`, `introspection`, `discovery`, ...). */
  byEndpoint: Record<string, number>;
  /** Calls to the protected API by outcome: `ok`, `invalid_token`, `missing_token`, `insufficient_scope`, `not_found`. */
  api: { calls: number; byOutcome: Record<string, number> };
}

/** One token request: when, which grant, what came of it. */
export interface TimelineEntry {
  /** Epoch ms when the response was sent. */
  at: number;
  grant: string;
  outcome: string;
  clientId?: string;
}

/** Empty stats. */
export function createStats(): DemoStats {
  return {
    tokenRequests: 0,
    byGrant: {},
    byOutcome: {},
    refreshReuseDetected: 0,
    timeline: [],
    byEndpoint: {},
    api: { calls: 0, byOutcome: {} },
  };
}

/** Empties the stats in place, keeping the object identity. */
export function resetStats(stats: DemoStats): void {
  Object.assign(stats, createStats());
}

const bump = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/** Records one protected-API call. */
export function countApiCall(stats: DemoStats, outcome: string): void {
  stats.api.calls += 1;
  bump(stats.api.byOutcome, outcome);
}

/** Records a refresh token presented after it was rotated. */
export function countReuse(stats: DemoStats): void {
  stats.refreshReuseDetected += 1;
}

const HTTP_OK = 200;
/** Enough for any test or benchmark run to read back whole, small enough that a long demo stays flat. */
export const MAX_TIMELINE_ENTRIES = 100_000;

/**
 * Koa middleware in front of oidc-provider: after the provider answered, reads the route,
 * the grant type and the outcome off the context. Nothing secret is recorded.
 */
export function statsMiddleware(stats: DemoStats, now: () => number = Date.now): Middleware {
  return async (ctx, next) => {
    await next();
    const route = ctx.oidc?.route;
    if (!route) return;
    bump(stats.byEndpoint, route);
    if (route !== "token") return;
    const sent = ctx.oidc?.params?.grant_type ?? ctx.oidc?.body?.grant_type;
    const grant = typeof sent === "string" && sent ? sent : "(none)";
    const body = ctx.body as { error?: unknown } | undefined;
    const outcome = ctx.status === HTTP_OK ? "ok" : typeof body?.error === "string" ? body.error : `http_${ctx.status}`;
    stats.tokenRequests += 1;
    bump(stats.byGrant, grant);
    bump(stats.byOutcome, outcome);
    stats.timeline.push({ at: now(), grant, outcome, clientId: ctx.oidc?.client?.clientId });
    if (stats.timeline.length > MAX_TIMELINE_ENTRIES) stats.timeline.splice(0, stats.timeline.length - MAX_TIMELINE_ENTRIES);
  };
}

import { GRANT_TABLE, type GrantName } from "../config/grants.js";
import type { Health } from "./health-types.js";
import { lifetimeOf, otherCredentials, type TokenState } from "./state.js";
import { refreshAt, usableUntil } from "./timing.js";

/**
 * A connection's health (SPEC §3 `status`), the one model shown by `tokensmith status` (text and
 * `--json`), `ts.statuses()`, the dashboard and `/metrics`. Pure: a state, the connection's
 * policy and the time; test/lifecycle/health.test.ts has one row per case.
 */
export { HEALTH_NAMES, type Health, type HealthName } from "./health-types.js";

/** What `health` needs to know of the connection. */
export interface HealthPolicy {
  grant: GrantName;
  /** A custom `grant_type`: requested as is, by itself. */
  grantType?: string;
  /** A seed refresh token is configured (§2.9). */
  hasSeed?: boolean;
  refreshMarginMs?: number;
  /** The client credentials in use (`credentialsHash`): a remembered client error of others is not this one's. */
  credentialsHash?: string;
}

/** The state could not be decrypted with the store's keys (§2.15). */
export const UNREADABLE = "unreadable" as const;

/** How each removal reads in messages. */
export const REMOVED_WORDS = { logout: "logged out", revoked: "revoked", moved: "moved to another machine by export" } as const;

/** True when the connection gets a token without a person: its own grant, or a refresh token (held or seeded). */
export function renewsByItself(state: TokenState | undefined, policy: HealthPolicy): boolean {
  const spec = GRANT_TABLE[policy.grant];
  if (policy.grantType || spec.own) return true;
  return spec.refreshable && !state?.tombstone && !state?.reauth && (!!state?.refreshToken || !!policy.hasSeed);
}

export function health(state: TokenState | undefined | typeof UNREADABLE, policy: HealthPolicy, now: number): Health {
  const base: Health = { status: "none", summary: "", renews_by_itself: false, expires_at: null, expires_in: null, last_error: null, removed: null };
  if (state === UNREADABLE) return { ...base, status: "unreadable", summary: "the stored state cannot be decrypted with the store's keys" };
  if (state?.tombstone) {
    const { reason, at } = state.tombstone;
    const removed = { reason, at: new Date(at).toISOString() };
    const then = `${REMOVED_WORDS[reason]} ${formatRelative(at, now)}`;
    const next = renewsByItself(undefined, policy) ? "the next use gets a new token by itself" : "a login is needed";
    return { ...base, status: "removed", summary: `${then}; ${next}`, removed };
  }
  const self = renewsByItself(state, policy);
  const t = state && lifetimeOf(state);
  const usable = !!t && now < usableUntil(t);
  const expiresAt = t && t.expiresAt !== null ? t.expiresAt : null;
  const common: Health = {
    ...base,
    renews_by_itself: self,
    expires_at: expiresAt === null ? null : new Date(expiresAt).toISOString(),
    expires_in: expiresAt === null ? null : Math.max(0, Math.floor((expiresAt - now) / 1000)),
  };
  if (state?.reauth) {
    const { at, error, description } = state.reauth;
    const last_error = { code: "reauthorization_required", error: error ?? "invalid_grant", message: `the refresh token was refused (${error ?? "invalid_grant"}${description ? `: ${description}` : ""})`, hint: null, at: new Date(at).toISOString(), retry_at: null };
    return { ...common, status: "login_required", summary: `${last_error.message} ${formatRelative(at, now)}: a login is needed`, last_error };
  }
  const last = state?.lastError;
  const remembered = last && last.until > now && !otherCredentials(last, policy) ? last : undefined;
  const last_error = remembered
    ? { code: remembered.code, error: remembered.error ?? null, message: remembered.message, hint: remembered.hint ?? null, at: new Date(remembered.at).toISOString(), retry_at: new Date(remembered.until).toISOString() }
    : null;
  const expiry = expiresAt === null ? "no expiry" : `expires ${formatRelative(expiresAt, now)}`;
  if (usable) {
    const due = now >= refreshAt(t!, policy.refreshMarginMs);
    // Inside the margin, a connection that renews by itself is simply about to renew.
    if (due && !self) return { ...common, status: "expiring", summary: `token valid, ${expiry}; no refresh token: a login will be needed`, last_error };
    const renewing = due && last_error ? `; renewing failed: ${last_error.message}` : "";
    return { ...common, status: "ready", summary: `token valid, ${expiry}${renewing}`, last_error };
  }
  if (last_error) {
    return { ...common, status: "failing", summary: `${last_error.message} (${formatRelative(remembered!.at, now)}); asked again ${formatRelative(remembered!.until, now)}`, last_error };
  }
  const used = !!state && (!!t || !!state.tokenRequests || !!state.lastRefreshAt);
  if (!self) {
    const why = used ? `the token ${expiresAt === null ? "is gone" : `expired ${formatRelative(expiresAt, now)}`} and there is no refresh token` : "no login yet";
    return { ...common, status: "login_required", summary: `${why}: a login is needed` };
  }
  if (!used) return { ...common, status: "none", summary: "not used yet; gets its first token by itself" };
  return { ...common, status: "ready", summary: t ? `token expired ${formatRelative(expiresAt!, now)}; renews by itself on next use` : "no token held; renews by itself on next use" };
}

/**
 * A duration in words, the one way the CLI and the dashboard write them: "42s", "52m 50s",
 * "3m", "2h 5m", "3d 4h". Written in plain JavaScript: the dashboard's script embeds its source.
 */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  if (d > 0) return d + "d" + (h ? " " + h + "h" : "");
  if (h > 0) return h + "h" + (m ? " " + m + "m" : "");
  if (m > 0) return m + "m" + (r ? " " + r + "s" : "");
  return r + "s";
}

/** "in 52m 50s" for a time to come, "3m ago" for one past (never "in 0s" after it): epoch ms. */
export function formatRelative(at: number, now: number): string {
  const seconds = Math.floor((at - now) / 1000);
  if (seconds > 0) return "in " + formatDuration(seconds);
  return seconds > -1 ? "just now" : formatDuration(-seconds) + " ago";
}

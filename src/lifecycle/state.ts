import { hashSecret } from "../redact.js";
import type { HistoryEntry } from "./history.js";
import { refreshAt, usableUntil, type Lifetime } from "./timing.js";

/**
 * The token state stored per fingerprint (SPEC §2.1). Stores see it as an opaque value; the
 * persistent ones encrypt it whole. Times are epoch ms.
 */
export interface TokenState {
  v: 1;
  accessToken?: string;
  tokenType?: string;
  /** When the token request that produced `accessToken` was sent. */
  issuedAt?: number;
  /** Server-side expiry (issuedAt + expires_in); null = the token does not expire. */
  expiresAt?: number | null;
  /** Counted off `expiresAt` for the resolution of a whole-number `expires_in` (§2.10), ms. */
  resolutionMs?: number;
  scope?: string;
  extra?: Record<string, unknown>;
  idToken?: string;
  refreshToken?: string;
  /**
   * Hash of `accessToken` when an API refused it right after it was issued (§2.11): no 401
   * drives another refresh for it, in this process or any other. Goes with the token.
   */
  deadHash?: string;
  /** When the `deadHash` mark lapses (epoch ms): an API that was briefly wrong gets one more refresh then. */
  deadUntil?: number;
  /** Set when a refresh failed with invalid_grant: the refresh token is kept, flagged (§2.7). */
  reauth?: { at: number; error?: string; description?: string; afterTimeout?: boolean };
  /** A remembered OAuth error, so a broken connection is not hammered (§2.7). */
  lastError?: RememberedError;
  /** Hashes of every seed refresh token ever used (§2.9). */
  seeds?: string[];
  /** Set by logout, revoke and export-as-move (§2.16): the state is gone, the generation stays. */
  tombstone?: { reason: "logout" | "revoked" | "moved"; at: number };
  /** Counters for `status`. */
  tokenRequests?: number;
  lastRefreshAt?: number;
  /**
   * The last token requests and removals, oldest first, bounded (`tokensmith log`): kept across
   * refreshes, logins and tombstones. Older versions read past it (the record stays `v: 1`).
   */
  history?: HistoryEntry[];
}

export interface RememberedError {
  code: string;
  message: string;
  hint?: string;
  status?: number;
  error?: string;
  errorDescription?: string;
  errorUri?: string;
  at: number;
  until: number;
  /** For `invalid_client` / `unauthorized_client`: the hash of the client credentials that got it (`credentialsHash`). */
  credentials?: string;
}

export const EMPTY_STATE: TokenState = { v: 1 };

/** A live (non-tombstoned) state, or undefined. */
export function live(state: TokenState | undefined): TokenState | undefined {
  return state && !state.tombstone ? state : undefined;
}

export function lifetimeOf(state: TokenState): Lifetime | undefined {
  if (!state.accessToken || state.issuedAt === undefined || state.expiresAt === undefined) return undefined;
  return { issuedAt: state.issuedAt, expiresAt: state.expiresAt, resolutionMs: state.resolutionMs };
}

export interface Want {
  /** The token must stay usable at least this long (ms). */
  minTtlMs?: number;
  /** A token with this hash was rejected by an API (401): never hand it out again. */
  rejectHash?: string;
}

/** True when the state's access token may be handed out now for this request. */
export function isUsable(state: TokenState | undefined, now: number, want: Want = {}): boolean {
  const s = live(state);
  const t = s && lifetimeOf(s);
  if (!s || !t) return false;
  if (want.rejectHash && hashSecret(s.accessToken!) === want.rejectHash) return false;
  return usableUntil(t) - now > (want.minTtlMs ?? 0);
}

/** True when a long-running process should start refreshing in the background. */
export function isDue(state: TokenState, now: number, marginMs?: number): boolean {
  const t = lifetimeOf(state);
  return !t || now >= refreshAt(t, marginMs);
}

/** What `status` calls the state. */
export function describeState(
  state: TokenState | undefined,
  now: number,
  marginMs?: number,
): "valid" | "expiring" | "expired" | "authorization required" | "none" {
  const s = live(state);
  if (!s) return "none";
  if (s.reauth) return "authorization required";
  const t = lifetimeOf(s);
  if (!t) return s.refreshToken ? "expired" : "none";
  if (now >= usableUntil(t)) return "expired";
  return now >= refreshAt(t, marginMs) ? "expiring" : "valid";
}

/** True while `state` marks the token with `hash` dead (§2.11); the mark lapses at `deadUntil`. */
export function isMarkedDead(state: TokenState | undefined, hash: string, now: number): boolean {
  return state?.deadHash === hash && (state.deadUntil === undefined || state.deadUntil > now);
}

/** True when `state` holds the access token with `hash` (compare by hash, §2.11). */
export function holdsToken(state: TokenState, hash: string): boolean {
  return !state.tombstone && !!state.accessToken && hashSecret(state.accessToken) === hash;
}

/** True when a remembered error concerns other client credentials than `policy`'s (a fixed secret, or another connection's). */
export function otherCredentials(last: { credentials?: string }, policy: { credentialsHash?: string }): boolean {
  return !!last.credentials && !!policy.credentialsHash && last.credentials !== policy.credentialsHash;
}

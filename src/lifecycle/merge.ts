import type { ResolvedConnection } from "../config/types.js";
import { MAX_EXTRA_BYTES } from "../protocol/token-response.js";
import type { TokenSet } from "../protocol/types.js";
import type { TokenState } from "./state.js";

/** Fields that describe the access token; `cache: process` keeps these out of the store. */
const ACCESS_FIELDS = ["accessToken", "tokenType", "issuedAt", "expiresAt", "resolutionMs", "scope", "extra", "idToken", "deadHash", "deadUntil"] as const;

/** The state without its access token (for `cache: process`, and after a 401). */
export function withoutAccessToken(state: TokenState): TokenState {
  const out = { ...state };
  for (const field of ACCESS_FIELDS) delete out[field];
  return out;
}

/** The access-token part of `from` laid over `onto`. */
export function withAccessTokenOf(onto: TokenState, from: TokenState | undefined): TokenState {
  if (!from?.accessToken) return onto;
  const out: TokenState = { ...onto };
  for (const field of ACCESS_FIELDS) (out as unknown as Record<string, unknown>)[field] = from[field];
  return out;
}

/**
 * The new state after a successful token request. Lifetime counts from when the request was
 * sent (§2.10); a response without a refresh token keeps the old one (§2.4, Nango #298); a
 * response without scope reports the requested scopes.
 */
export function mergeTokens(
  base: TokenState,
  tokens: TokenSet,
  sentAt: number,
  conn: Pick<ResolvedConnection, "defaultTtl" | "scopes" | "scopeSeparator">,
  usedRefreshToken: string | undefined,
  requests: number,
  now: number,
): TokenState {
  const lifetimeMs = tokens.expiresInMs ?? (tokens.expiresAtMs !== undefined ? tokens.expiresAtMs - sentAt : undefined);
  const expiresAt =
    lifetimeMs !== undefined ? sentAt + lifetimeMs : conn.defaultTtl === "never" ? null : sentAt + conn.defaultTtl;
  const { reauth: _reauth, lastError: _lastError, tombstone: _tombstone, deadHash: _dead, deadUntil: _deadUntil, resolutionMs: _resolution, ...kept } = base;
  return {
    ...kept,
    v: 1,
    accessToken: tokens.accessToken,
    tokenType: tokens.tokenType,
    issuedAt: sentAt,
    expiresAt,
    ...(tokens.expiresInMs !== undefined && tokens.resolutionMs ? { resolutionMs: tokens.resolutionMs } : {}),
    scope: tokens.scope ?? (conn.scopes.length ? conn.scopes.join(" ") : base.scope),
    extra: mergeExtra(base.extra, tokens.extra),
    idToken: tokens.idToken ?? base.idToken,
    refreshToken: tokens.refreshToken ?? usedRefreshToken ?? base.refreshToken,
    tokenRequests: (base.tokenRequests ?? 0) + requests,
    lastRefreshAt: now,
  };
}

/** Earlier extra fields stay under the new ones, unless together they outgrow the bound (§2.19). */
function mergeExtra(earlier: Record<string, unknown> | undefined, latest: Record<string, unknown>): Record<string, unknown> {
  const merged = { ...(earlier ?? {}), ...latest };
  return Buffer.byteLength(JSON.stringify(merged)) > MAX_EXTRA_BYTES ? latest : merged;
}

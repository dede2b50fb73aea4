import type { TokenSmithError } from "../errors.js";
import { MAX_EXTRA_BYTES } from "../protocol/token-response.js";
import type { GrantRequest, TokenSet } from "../protocol/types.js";
import { hashSecret, redact, redactMessage } from "../redact.js";
import { appended, removalEntry, type HistoryEntry, type Requester } from "./history.js";
import { OAUTH_ERROR_BACKOFF_MS } from "./retry.js";
import { live, type RememberedError, type TokenState } from "./state.js";

/**
 * Every change of a token state, as pure functions of (state, event, now): the manager, login,
 * revoke, logout and transfer all go through `transition()`, none builds a state by hand. The
 * states and the events between them are drawn in docs/architecture.md.
 */

/** What an issued token's state needs to know of its connection. */
export interface IssuePolicy {
  /** Lifetime assumed when the server gives none (ms), or "never". */
  defaultTtl: number | "never";
  /** The requested scopes: reported when the response has no `scope`. */
  scopes: string[];
}

export type TombstoneReason = NonNullable<TokenState["tombstone"]>["reason"];

/**
 * The events of token requests carry their `entries` for the state's history (`history.ts`):
 * the request log is written with the answer, in the same fenced update.
 */
export type StateEvent =
  /** A token request answered (SPEC §2.4, §2.10): `grant` is the request that worked. */
  | { type: "issued"; tokens: TokenSet; sentAt: number; grant: GrantRequest; requests: number; policy: IssuePolicy; entries?: HistoryEntry[] }
  /** `invalid_grant` on a user grant's refresh (§2.7): the refresh token is kept, flagged. */
  | { type: "refresh_refused"; error: TokenSmithError; afterTimeout?: boolean; requests: number; entries?: HistoryEntry[] }
  /** Any other OAuth error: remembered for a short backoff (§2.7). */
  | { type: "error_remembered"; error: TokenSmithError; requests: number; credentials?: string; entries?: HistoryEntry[] }
  /** Token requests that failed and change nothing else (transient, not an OAuth answer): logged only. */
  | { type: "requests_failed"; entries: HistoryEntry[] }
  /** An API answered 401 to the access token (§2.11): drop it, keep the rest. */
  | { type: "invalidated" }
  /** A token issued just now got a 401 too: no more 401-driven refreshes for it until `until`. */
  | { type: "marked_dead"; hash: string; until: number }
  /** logout, revoke, export-as-move (§2.16): a tombstone that keeps the generation and used seeds. */
  | { type: "removed"; reason: TombstoneReason; usedSeeds?: string[]; by?: Requester }
  /** A person's login: a new state; only used seeds, counters and the history carry over (§2.9). */
  | { type: "logged_in"; tokens: TokenSet; sentAt: number; requests: number; policy: IssuePolicy; seedRefreshToken?: string; entries?: HistoryEntry[] }
  /** An imported bundle's state replaces this one; the configured seed counts as used (§2.9). */
  | { type: "imported"; state: TokenState; seedRefreshToken?: string }
  /** A configured seed refresh token not used before is adopted, even over a state (§2.9). */
  | { type: "seed_adopted"; seed: string };

/** The next state after `event`. Pure: no clock but `now`, no I/O. */
export function transition(state: TokenState | undefined, event: StateEvent, now: number): TokenState {
  switch (event.type) {
    case "issued": {
      const base = state ?? fresh(undefined);
      // The refresh token kept when the answer has none is the one that worked; after any
      // other grant (a fallback to the client's own grant), the old one is dropped.
      const used = event.grant.kind === "refresh_token" ? event.grant.refreshToken : undefined;
      const onto = used ? base : { ...base, refreshToken: undefined };
      return logged(withTokens(onto, event.tokens, event.sentAt, event.policy, used, event.requests, now), event.entries);
    }
    case "refresh_refused": {
      const { error, errorDescription: description } = event.error;
      return logged({ ...counted(state, event.requests), reauth: { at: now, error, description, afterTimeout: event.afterTimeout || undefined } }, event.entries);
    }
    case "error_remembered":
      return logged({ ...counted(state, event.requests), lastError: remembered(event.error, now, event.credentials) }, event.entries);
    case "requests_failed":
      return logged(state ?? fresh(undefined), event.entries);
    case "invalidated":
      return withoutAccessToken(state ?? fresh(undefined));
    case "marked_dead":
      return { ...(state ?? fresh(undefined)), deadHash: event.hash, deadUntil: event.until };
    case "removed": {
      const seeds = [...new Set([...(state?.seeds ?? []), ...(event.usedSeeds ?? [])])];
      const removal = event.by ? [removalEntry(event.by, event.reason, now)] : undefined;
      const history = appended(state?.history, removal);
      return { v: 1, tombstone: { reason: event.reason, at: now }, seeds: seeds.length ? seeds : undefined, tokenRequests: state?.tokenRequests, ...(history ? { history } : {}) };
    }
    case "logged_in":
      return logged(withTokens(fresh(state, event.seedRefreshToken), event.tokens, event.sentAt, event.policy, undefined, event.requests, now), event.entries);
    case "imported":
      return { ...portable(event.state), ...fresh(state, event.seedRefreshToken) };
    case "seed_adopted": {
      const { reauth: _reauth, lastError: _lastError, ...rest } = state ?? fresh(undefined);
      return { ...rest, refreshToken: event.seed, seeds: [...(rest.seeds ?? []), hashSecret(event.seed)] };
    }
  }
}

/**
 * The empty state that follows `state` (removed, or replaced by a login or an import): only
 * what must outlive a login carries over, the seeds used (plus `seed`, which then counts as
 * used), the request counter and the request history.
 */
export function fresh(state: TokenState | undefined, seed?: string): TokenState {
  const seeds = new Set(state?.seeds ?? []);
  if (seed) seeds.add(hashSecret(seed));
  return { v: 1, seeds: seeds.size ? [...seeds] : undefined, tokenRequests: state?.tokenRequests, ...(state?.history ? { history: state.history } : {}) };
}

/** What a token request builds on: the live state, or a fresh one after a tombstone or nothing. */
export function baseOf(state: TokenState | undefined): TokenState {
  return live(state) ?? fresh(state);
}

/** What goes into an export bundle: the login, without this machine's bookkeeping (its request history included). */
export function portable(state: TokenState): TokenState {
  const { seeds: _seeds, lastError: _lastError, tokenRequests: _requests, tombstone: _tombstone, history: _history, ...rest } = state;
  return rest;
}

/** Fields that describe the access token; `cache: process` keeps these out of the store. */
const ACCESS_FIELDS = ["accessToken", "tokenType", "issuedAt", "expiresAt", "resolutionMs", "scope", "extra", "idToken", "deadHash", "deadUntil"] as const;

/** The state without its access token (`cache: process` in the store, and after a 401). */
export function withoutAccessToken(state: TokenState): TokenState {
  const out = { ...state };
  for (const field of ACCESS_FIELDS) delete out[field];
  return out;
}

/** The access-token part of `from` laid over `onto` (`cache: process`: the store has none). */
export function withAccessTokenOf(onto: TokenState, from: TokenState | undefined): TokenState {
  if (!from?.accessToken) return onto;
  const out: TokenState = { ...onto };
  for (const field of ACCESS_FIELDS) (out as unknown as Record<string, unknown>)[field] = from[field];
  return out;
}

/** `state` with `entries` added to its history. */
function logged(state: TokenState, entries: HistoryEntry[] | undefined): TokenState {
  const history = appended(state.history, entries);
  return history ? { ...state, history } : state;
}

function counted(state: TokenState | undefined, requests: number): TokenState {
  const base = state ?? fresh(undefined);
  return { ...base, tokenRequests: (base.tokenRequests ?? 0) + requests };
}

/** An OAuth error kept for a short backoff (§2.7); stored and shown by `status`, so redacted as it is printed. */
function remembered(err: TokenSmithError, now: number, credentials?: string): RememberedError {
  return {
    ...(credentials ? { credentials } : {}),
    code: err.code,
    message: redactMessage(err.message),
    hint: err.hint === undefined ? undefined : redactMessage(err.hint),
    status: err.status,
    error: err.error === undefined ? undefined : redact(err.error),
    errorDescription: err.errorDescription === undefined ? undefined : redact(err.errorDescription),
    errorUri: err.errorUri === undefined ? undefined : redact(err.errorUri),
    at: now,
    until: now + OAUTH_ERROR_BACKOFF_MS,
  };
}

/**
 * A token response laid over `base`. Lifetime counts from when the request was sent (§2.10); a
 * response without a refresh token keeps the old one (§2.4, Nango #298); a response without
 * scope reports the requested scopes.
 */
function withTokens(base: TokenState, tokens: TokenSet, sentAt: number, policy: IssuePolicy, usedRefreshToken: string | undefined, requests: number, now: number): TokenState {
  const lifetimeMs = tokens.expiresInMs ?? (tokens.expiresAtMs !== undefined ? tokens.expiresAtMs - sentAt : undefined);
  const expiresAt = lifetimeMs !== undefined ? sentAt + lifetimeMs : policy.defaultTtl === "never" ? null : sentAt + policy.defaultTtl;
  const { reauth: _reauth, lastError: _lastError, tombstone: _tombstone, deadHash: _dead, deadUntil: _deadUntil, resolutionMs: _resolution, ...kept } = base;
  return {
    ...kept,
    v: 1,
    accessToken: tokens.accessToken,
    tokenType: tokens.tokenType,
    issuedAt: sentAt,
    expiresAt,
    ...(tokens.expiresInMs !== undefined && tokens.resolutionMs ? { resolutionMs: tokens.resolutionMs } : {}),
    scope: tokens.scope ?? (policy.scopes.length ? policy.scopes.join(" ") : base.scope),
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

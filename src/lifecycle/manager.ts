import type { Clock } from "../clock.js";
import type { GrantName } from "../config/types.js";
import { isUserGrant } from "../config/types.js";
import { isTransient, TokenSmithError } from "../errors.js";
import type { GrantRequest, TokenSet } from "../protocol/types.js";
import { hashSecret } from "../redact.js";
import type { Lease, Store, StoreRecord } from "../store/types.js";
import { SingleFlight } from "./flight.js";
import { mergeTokens, withAccessTokenOf, withoutAccessToken } from "./merge.js";
import { persistFenced } from "./persist.js";
import { checkRemembered, hasNewSeed, planGrant, reauthorizationError, remember } from "./plan.js";
import { DEFAULT_RETRY, retryDelay, type RetryPolicy } from "./retry.js";
import { isDue, isMarkedDead, isUsable, lifetimeOf, live, type TokenState, type Want } from "./state.js";
import { refreshAt, usableUntil } from "./timing.js";

/** Extra lease time beyond the request timeout, for the store write that follows (§2.5). */
export const LEASE_MARGIN_MS = 5_000;
/** Lease time kept back from a request's timeout so the write still happens under the lease. */
export const WRITE_RESERVE_MS = 1_000;
/** After a background refresh found the lease busy, re-read the store this much later. */
export const BACKGROUND_RECHECK_MS = 100;
/**
 * How long a token refused right after it was issued stays marked dead (§2.11): long enough
 * that a cron loop of CLI calls against a misconfigured API makes no refresh per run, short
 * enough that an API that was briefly wrong (a stale key set) gets another token soon.
 */
export const DEAD_MARK_MS = 5 * 60_000;
/** After a background refresh failed, wait this long before trying again in the background. */
export const BACKGROUND_BACKOFF_MS = 2_000;

/** One token request, as the protocol layer makes it. */
export interface TokenRequester {
  request(grant: GrantRequest, options: { timeoutMs: number; signal?: AbortSignal }): Promise<{ tokens: TokenSet; sentAt: number }>;
}

/** What the manager needs to know of the connection that is asking. */
export interface ConnectionContext {
  name: string;
  grant: GrantName;
  grantType?: string;
  cache: "shared" | "process" | "none";
  refreshMarginMs?: number;
  defaultTtl: number | "never";
  timeoutMs: number;
  scopes: string[];
  scopeSeparator: string;
  seedRefreshToken?: string;
  /** The command that logs this connection in, for hints (`--manual` when it must be pasted). */
  loginCommand: string;
  requester: TokenRequester;
}

/**
 * A refresh's earlier attempts: a refresh_token request that timed out may have been rotated
 * at the server, which explains an `invalid_grant` on the retry (§2.7).
 */
interface RefreshHistory {
  refreshTimedOut: boolean;
}

export interface ManagerDeps {
  store: Store;
  clock: Clock;
  /** Long-running processes refresh in the background inside the margin; the CLI does not. */
  refreshAhead: boolean;
  retry?: RetryPolicy;
  holder: string;
  onWarning?: (message: string) => void;
}

export interface AccessOptions extends Want {
  forceRefresh?: boolean;
  signal?: AbortSignal;
}

/**
 * The lifecycle of one token state (one fingerprint, SPEC §2.1), shared by every connection of
 * this process that has that fingerprint: the in-memory copy, single flight in process and,
 * through the store lease, across processes; refresh ahead, rotation, recovery.
 */
export class TokenManager {
  /** The last state seen, with its generation. In `process` mode it also holds the access token. */
  private memory?: { generation: number; state: TokenState; usableUntil: number; refreshAt: number };
  private readonly flights = new SingleFlight<TokenState>();
  private readonly invalidations = new SingleFlight<void>();
  private background?: Promise<void>;
  private backgroundNotBefore = 0;
  /** Tokens that got a 401 right after being issued and are not in the state (`cache: none`). */
  private readonly deadHashes = new Map<string, number>();
  /** Token requests made with `cache: none` (nothing is stored then). */
  private uncachedRequests = 0;

  constructor(
    readonly key: string,
    private readonly deps: ManagerDeps,
  ) {}

  /**
   * The hot path of `accessToken()` with no options: the in-memory token if it may be handed
   * out now, else undefined (then call `access`). Synchronous, allocation-free.
   */
  cachedToken(ctx: ConnectionContext): string | undefined {
    const memo = this.memory;
    if (!memo || ctx.cache === "none") return undefined;
    const now = this.deps.clock.now();
    if (now >= memo.usableUntil) return undefined;
    if (this.deps.refreshAhead && now >= memo.refreshAt) this.startBackground(ctx);
    return memo.state.accessToken;
  }

  /** The current state as this process knows it, without I/O. */
  peek(): TokenState | undefined {
    return this.memory?.state;
  }

  get uncachedTokenRequests(): number {
    return this.uncachedRequests;
  }

  /** A usable token state: from memory, the store, or a token request. */
  access(ctx: ConnectionContext, options: AccessOptions = {}): Promise<TokenState> {
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    // `cache: none`: the request is this caller's alone, so its signal may cancel it.
    if (ctx.cache === "none") return this.requestUncached(ctx, options);
    const now = this.deps.clock.now();
    const state = this.memory?.state;
    if (!options.forceRefresh && isUsable(state, now, options)) {
      if (this.deps.refreshAhead && isDue(state!, now, ctx.refreshMarginMs)) this.startBackground(ctx);
      return Promise.resolve(state!);
    }
    const flightKey = `${options.forceRefresh ? "force" : ""}|${options.minTtlMs ?? 0}|${options.rejectHash ?? ""}`;
    // The shared work gets the flight's signal, which aborts only once every caller has left.
    return this.flights.run(flightKey, (signal) => this.syncPath(ctx, { ...options, signal }), options.signal);
  }

  /** Re-read the store; refresh under the lease only if what is stored won't do. */
  private async syncPath(ctx: ConnectionContext, options: AccessOptions): Promise<TokenState> {
    if (!options.forceRefresh) {
      const state = this.adopt(ctx, await this.deps.store.get<TokenState>(this.key));
      const now = this.deps.clock.now();
      if (isUsable(state, now, options)) return state!;
      const current = live(state);
      if (current && !hasNewSeed(ctx, current)) checkRemembered(current, now, ctx);
    }
    return this.refreshWithRetries(ctx, options);
  }

  private async refreshWithRetries(ctx: ConnectionContext, options: AccessOptions): Promise<TokenState> {
    const policy = this.deps.retry ?? DEFAULT_RETRY;
    const started = this.deps.clock.now();
    /** What earlier attempts of this refresh saw, for the error that ends it. */
    const history: RefreshHistory = { refreshTimedOut: false };
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.refreshOnce(ctx, { ...options, history }, "wait");
        return result!;
      } catch (err) {
        const delay = retryDelay(err, attempt, this.deps.clock.now() - started, policy);
        if (delay === undefined) throw err;
        // Sleep outside the lease (§2.5): release, sleep, retake.
        await this.deps.clock.sleep(delay, options.signal);
      }
    }
  }

  /**
   * One attempt under the store lease: re-read, decide, request, write. Returns undefined only
   * in `try` mode when another holder has the lease.
   */
  private async refreshOnce(
    ctx: ConnectionContext,
    options: AccessOptions & { ahead?: boolean; history?: RefreshHistory },
    mode: "wait" | "try",
  ): Promise<TokenState | undefined> {
    const { store, clock } = this.deps;
    const leaseMs = ctx.timeoutMs + LEASE_MARGIN_MS;
    let produced: TokenState | undefined;
    let failure: unknown;
    let baseGeneration = 0;
    let result;
    try {
      result = await store.update<TokenState>(
        this.key,
        async (current, lease) => {
          produced = failure = undefined;
          baseGeneration = current?.generation ?? 0;
          const state = this.adopt(ctx, current);
          const now = clock.now();
          if (!options.forceRefresh && isUsable(state, now, options)) {
            if (!options.ahead || !isDue(state!, now, ctx.refreshMarginMs)) return undefined;
          }
          const base: TokenState = live(state) ?? { v: 1, seeds: state?.seeds, tokenRequests: state?.tokenRequests };
          if (!options.forceRefresh && !hasNewSeed(ctx, base)) checkRemembered(base, now, ctx);
          const plan = planGrant(ctx, base);
          let requests = 0;
          const send = (grant: GrantRequest) => {
            requests++;
            // Clamped to the lease time left at each send (§2.5), so the write still happens under the lease.
            return ctx.requester.request(grant, { timeoutMs: timeoutWithin(lease, ctx.timeoutMs), signal: lease.signal }).catch((err: unknown) => {
              if (grant.kind === "refresh_token" && err instanceof TokenSmithError && err.code === "timeout" && options.history) options.history.refreshTimedOut = true;
              throw err;
            });
          };
          try {
            const { tokens, sentAt, grant } = await this.requestWithRecovery(ctx, plan.grant, send);
            // The refresh token kept when the answer has none is the one that worked; after a
            // fallback to the client's own grant, the refused one is dropped.
            const onto = grant.kind === "refresh_token" ? plan.base : { ...plan.base, refreshToken: undefined };
            const used = grant.kind === "refresh_token" ? grant.refreshToken : undefined;
            produced = mergeTokens(onto, tokens, sentAt, ctx, used, requests, clock.now());
            return this.persistable(ctx, produced);
          } catch (err) {
            failure = err;
            if (isTransient(err)) return undefined;
            const counted = { ...plan.base, tokenRequests: (plan.base.tokenRequests ?? 0) + requests };
            if (err instanceof TokenSmithError && err.code === "oauth_error") {
              if (err.error === "invalid_grant" && plan.grant.kind === "refresh_token" && isUserGrant(ctx.grant)) {
                // §2.7: the refresh token is kept, flagged, so --force-refresh can retry later.
                const afterTimeout = options.history?.refreshTimedOut || undefined;
                return { ...counted, reauth: { at: now, error: err.error, description: err.errorDescription, afterTimeout } };
              }
              return { ...counted, lastError: remember(err, now) };
            }
            return undefined;
          }
        },
        { mode, deadline: clock.now() + leaseMs + ctx.timeoutMs, leaseMs, holder: this.deps.holder, signal: options.signal },
      );
    } catch (err) {
      // The server answered but the write failed: keep the answer, retry the fenced write (§2.4).
      if (produced && !failure) {
        const record = await persistFenced(store, this.key, baseGeneration, this.persistable(ctx, produced), this.deps.clock);
        this.adopt(ctx, record, produced);
        return produced;
      }
      throw err instanceof TokenSmithError ? err.withConnection(ctx.name) : err;
    }
    if (result.status === "busy") return undefined;
    if (result.status === "written") this.adopt(ctx, result.record, produced);
    if (failure) throw this.explain(ctx, failure, options.history);
    return this.memory?.state;
  }

  /** A token request, with stale-read recovery (§2.6) and fallbacks for non-interactive grants. */
  private async requestWithRecovery(
    ctx: ConnectionContext,
    grant: GrantRequest,
    send: (grant: GrantRequest) => Promise<{ tokens: TokenSet; sentAt: number }>,
  ): Promise<{ tokens: TokenSet; sentAt: number; grant: GrantRequest }> {
    const attempt = async (g: GrantRequest) => ({ ...(await send(g)), grant: g });
    try {
      return await attempt(grant);
    } catch (err) {
      if (!(err instanceof TokenSmithError) || err.error !== "invalid_grant" || grant.kind !== "refresh_token") throw err;
      const stored = live((await this.deps.store.get<TokenState>(this.key))?.value);
      if (stored?.refreshToken && stored.refreshToken !== grant.refreshToken) {
        return attempt({ kind: "refresh_token", refreshToken: stored.refreshToken });
      }
      // Non-interactive grants never need a person: their refresh token is only a shortcut.
      if (ctx.grant === "password") return attempt({ kind: "password" });
      if (!isUserGrant(ctx.grant)) return attempt(ctx.grantType ? { kind: "custom" } : ({ kind: ctx.grant } as GrantRequest));
      throw err;
    }
  }

  private explain(ctx: ConnectionContext, err: unknown, history?: RefreshHistory): unknown {
    if (err instanceof TokenSmithError && err.code === "oauth_error" && err.error === "invalid_grant" && isUserGrant(ctx.grant)) {
      const afterTimeout = history?.refreshTimedOut;
      const refused = { error: err.error, description: err.errorDescription, afterTimeout, status: err.status };
      return reauthorizationError(ctx, refused, err);
    }
    return err instanceof TokenSmithError ? err.withConnection(ctx.name) : err;
  }

  /** Background refresh inside the margin (§2.3): callers keep the current token meanwhile. */
  private startBackground(ctx: ConnectionContext): void {
    const now = this.deps.clock.now();
    if (this.background || now < this.backgroundNotBefore) return;
    this.background = (async () => {
      // Another process may have refreshed already: re-read before asking for the lease.
      const state = this.adopt(ctx, await this.deps.store.get<TokenState>(this.key));
      if (isUsable(state, this.deps.clock.now()) && !isDue(state!, this.deps.clock.now(), ctx.refreshMarginMs)) return;
      const refreshed = await this.refreshOnce(ctx, { ahead: true }, "try");
      if (!refreshed) this.backgroundNotBefore = this.deps.clock.now() + BACKGROUND_RECHECK_MS;
    })()
      .catch((err: unknown) => {
        this.backgroundNotBefore = this.deps.clock.now() + BACKGROUND_BACKOFF_MS;
        const message = err instanceof Error ? err.message : String(err);
        this.deps.onWarning?.(`background refresh of "${ctx.name}" failed: ${message}`);
      })
      .finally(() => {
        this.background = undefined;
      });
  }

  /** `cache: none`: a new token for every request, no store, no single flight (§2.8). */
  private async requestUncached(ctx: ConnectionContext, options: AccessOptions): Promise<TokenState> {
    const policy = this.deps.retry ?? DEFAULT_RETRY;
    const started = this.deps.clock.now();
    for (let attempt = 1; ; attempt++) {
      try {
        this.uncachedRequests++;
        const plan = planGrant(ctx, { v: 1 });
        const { tokens, sentAt } = await ctx.requester.request(plan.grant, { timeoutMs: ctx.timeoutMs, signal: options.signal });
        return mergeTokens({ v: 1 }, tokens, sentAt, ctx, undefined, 1, this.deps.clock.now());
      } catch (err) {
        const delay = retryDelay(err, attempt, this.deps.clock.now() - started, policy);
        if (delay === undefined) throw this.explain(ctx, err);
        await this.deps.clock.sleep(delay, options.signal);
      }
    }
  }

  /**
   * An API answered 401 to `token` (§2.11): drop exactly that token, here and in the store
   * (compare-and-invalidate by hash), so 50 simultaneous 401s cause one refresh.
   */
  async invalidate(ctx: ConnectionContext, token: string): Promise<string> {
    const hash = hashSecret(token);
    if (this.isDead(hash)) return hash;
    if (this.memory?.state.accessToken === token) {
      this.remember(this.memory.generation, withoutAccessToken(this.memory.state), ctx);
    }
    if (ctx.cache !== "shared") return hash;
    await this.invalidations.run(hash, async () => {
      const result = await this.deps.store.update<TokenState>(
        this.key,
        (current) => {
          const state = current?.value;
          // A token another process found dead stays: it drives no refresh (§2.11).
          return state && isTokenOf(state, hash) && !isMarkedDead(state, hash, this.deps.clock.now()) ? withoutAccessToken(state) : undefined;
        },
        { mode: "wait", deadline: this.deps.clock.now() + ctx.timeoutMs + LEASE_MARGIN_MS * 2, holder: this.deps.holder },
      );
      if (result.status !== "busy") this.adopt(ctx, result.record);
    });
    return hash;
  }

  /**
   * True when the token with `hash` got a 401 right after it was issued, here or in another
   * process that shares the store (the mark is part of the state read from it): no more
   * 401-driven refreshes for it (§2.11). No I/O.
   */
  isDead(hash: string): boolean {
    const now = this.deps.clock.now();
    return isMarkedDead(this.memory?.state, hash, now) || (this.deadHashes.get(hash) ?? 0) > now;
  }

  /**
   * A token issued just now got a 401 too: mark it dead in the state, here and in the store,
   * compare-and-set by hash so a newer token is never marked. The mark goes with the token: a
   * refresh (expiry, `--force-refresh`, login) replaces both.
   */
  async markDead(ctx: ConnectionContext, token: string): Promise<void> {
    const hash = hashSecret(token);
    const now = this.deps.clock.now();
    const deadUntil = now + DEAD_MARK_MS;
    const memo = this.memory;
    if (memo && memo.state.accessToken === token) {
      this.remember(memo.generation, { ...memo.state, deadHash: hash, deadUntil }, ctx);
    } else if (ctx.cache === "none") {
      for (const [known, until] of this.deadHashes) if (until <= now) this.deadHashes.delete(known); // lapsed marks go
      this.deadHashes.set(hash, deadUntil);
    }
    if (ctx.cache !== "shared") return;
    const result = await this.deps.store.update<TokenState>(
      this.key,
      (current) => {
        const state = current?.value;
        return state && isTokenOf(state, hash) ? { ...state, deadHash: hash, deadUntil } : undefined;
      },
      { mode: "wait", deadline: this.deps.clock.now() + ctx.timeoutMs + LEASE_MARGIN_MS * 2, holder: this.deps.holder },
    );
    if (result.status !== "busy") this.adopt(ctx, result.record);
  }

  /**
   * Write a state under the lease, e.g. a login's tokens, a tombstone or an import. `fn` sees
   * the current state and returns the next one (or undefined to leave it).
   */
  async write(
    ctx: ConnectionContext,
    fn: (current: TokenState | undefined, lease: Lease) => TokenState | undefined | Promise<TokenState | undefined>,
    options: { discardUnreadable?: boolean } = {},
  ): Promise<TokenState | undefined> {
    const leaseMs = ctx.timeoutMs + LEASE_MARGIN_MS;
    let written: TokenState | undefined;
    const result = await this.deps.store.update<TokenState>(
      this.key,
      async (current, lease) => {
        written = await fn(current?.value, lease);
        return written && (written.tombstone ? written : this.persistable(ctx, written));
      },
      { mode: "wait", deadline: this.deps.clock.now() + leaseMs + ctx.timeoutMs, leaseMs, holder: this.deps.holder, discardUnreadable: options.discardUnreadable },
    );
    if (result.status === "written") this.adopt(ctx, result.record, written);
    else if (result.status === "unchanged") this.adopt(ctx, result.record);
    return this.memory?.state;
  }

  /** Read the store now (status, after a 401). */
  async reload(ctx: ConnectionContext): Promise<TokenState | undefined> {
    return this.adopt(ctx, await this.deps.store.get<TokenState>(this.key));
  }

  /** Keep a state in memory with its hand-out deadlines precomputed for the hot path. */
  private remember(generation: number, state: TokenState, ctx: ConnectionContext): void {
    const lifetime = live(state) && lifetimeOf(state);
    this.memory = {
      generation,
      state,
      usableUntil: lifetime ? usableUntil(lifetime) : -Infinity,
      refreshAt: lifetime ? refreshAt(lifetime, ctx.refreshMarginMs) : -Infinity,
    };
  }

  /** What goes to the store: everything, or all but the access token with `cache: process`. */
  private persistable(ctx: ConnectionContext, state: TokenState): TokenState {
    return ctx.cache === "process" ? withoutAccessToken(state) : state;
  }

  /** Take a record read from the store as this process's view, keeping a newer one. */
  private adopt(ctx: ConnectionContext, record: StoreRecord<TokenState> | undefined, produced?: TokenState): TokenState | undefined {
    if (!record) return this.memory?.state;
    if (this.memory && record.generation < this.memory.generation) return this.memory.state;
    let state = record.value;
    if (ctx.cache === "process" && !state.tombstone) {
      // The store holds no access token in this mode: keep ours, or the one just produced.
      state = withAccessTokenOf(state, produced ?? this.memory?.state);
    }
    this.remember(record.generation, state, ctx);
    return state;
  }
}

/**
 * A request's timeout under a lease (§2.5): never longer than the lease has left, less the
 * time the store write after it needs.
 */
export function timeoutWithin(lease: Lease, timeoutMs: number): number {
  return Math.max(1, Math.min(timeoutMs, lease.timeLeft() - WRITE_RESERVE_MS));
}

/** True when `state` holds the access token with `hash` (compare by hash, §2.11). */
function isTokenOf(state: TokenState, hash: string): boolean {
  return !state.tombstone && !!state.accessToken && hashSecret(state.accessToken) === hash;
}

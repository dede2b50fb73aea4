import type { Clock } from "../clock.js";
import { TokenSmithError } from "../errors.js";
import { hashSecret } from "../redact.js";
import type { Lease, Store, UpdateResult } from "../store/types.js";
import { attemptUnderLease, LEASE_MARGIN_MS, requestUncached, type ConnectionContext, type Outcome, type RefreshHistory } from "./attempt.js";
import { decide, failureError, type Wanted } from "./decide.js";
import { SingleFlight } from "./flight.js";
import { persistFenced } from "./persist.js";
import { withRetries, type RetryPolicy } from "./retry.js";
import { holdsToken, isMarkedDead, type TokenState } from "./state.js";
import { transition, type StateEvent } from "./transitions.js";
import { StateView, storedForm } from "./view.js";

export { LEASE_MARGIN_MS, timeoutWithin, type ConnectionContext, type TokenRequester } from "./attempt.js";

/** After a background refresh found the lease busy, re-read the store this much later. */
export const BACKGROUND_RECHECK_MS = 100;
/**
 * How long a token refused right after it was issued stays marked dead (§2.11): a cron loop of CLI
 * calls against a misconfigured API makes no refresh per run; a briefly wrong API soon gets another.
 */
export const DEAD_MARK_MS = 5 * 60_000;
/** After a background refresh failed, wait this long before trying again in the background. */
export const BACKGROUND_BACKOFF_MS = 2_000;

export interface ManagerDeps {
  store: Store;
  clock: Clock;
  /** Long-running processes refresh in the background inside the margin; the CLI does not. */
  refreshAhead: boolean;
  retry?: RetryPolicy;
  holder: string;
  onWarning?: (message: string) => void;
}

/** Returns the next state (from `transition()`) given the current one, or undefined to leave it. */
export type StateWriter = (current: TokenState | undefined, lease: Lease) => TokenState | undefined | Promise<TokenState | undefined>;

export interface AccessOptions extends Wanted {
  signal?: AbortSignal;
}

/**
 * The I/O around one token state (one fingerprint, SPEC §2.1), shared by every connection of
 * this process that has that fingerprint: read → decide → request → transition → write, with
 * single flight in process and the store lease across processes. The decisions are `decide()`
 * and the state changes `transition()`; nothing here builds a state.
 */
export class TokenManager {
  private readonly view = new StateView();
  private readonly flights = new SingleFlight<TokenState>();
  private readonly invalidations = new SingleFlight<void>();
  private background?: Promise<void>;
  private backgroundNotBefore = 0;
  private closing = false;
  /** Tokens that got a 401 right after being issued and are not in any state (`cache: none`). */
  private readonly deadHashes = new Map<string, number>();
  /** Token requests made with `cache: none` (nothing is stored then). */
  private uncachedRequests = 0;

  constructor(
    readonly key: string,
    private readonly deps: ManagerDeps,
  ) {}

  /** The hot path of `accessToken()`: the in-memory token if it may be handed out now. Synchronous. */
  cachedToken(ctx: ConnectionContext): string | undefined {
    if (ctx.cache === "none") return undefined;
    const now = this.deps.clock.now();
    const token = this.view.tokenAt(now);
    if (token !== undefined && this.deps.refreshAhead && this.view.dueAt(now)) this.startBackground(ctx);
    return token;
  }

  /** The current state as this process knows it, without I/O. */
  peek(): TokenState | undefined {
    return this.view.state;
  }

  get uncachedTokenRequests(): number {
    return this.uncachedRequests;
  }

  /** A usable token state: from memory, the store, or a token request. */
  access(ctx: ConnectionContext, options: AccessOptions = {}): Promise<TokenState> {
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    // `cache: none`: the request is this caller's alone, so its signal may cancel it.
    if (ctx.cache === "none") return this.requestUncached(ctx, options);
    const verdict = decide(this.view.state, this.deps.clock.now(), options, ctx);
    if (verdict.kind === "serve") {
      if (verdict.refreshAhead && this.deps.refreshAhead) this.startBackground(ctx);
      return Promise.resolve(verdict.state);
    }
    const flightKey = `${options.forceRefresh ? "force" : ""}|${options.minTtlMs ?? 0}|${options.rejectHash ?? ""}`;
    // The shared work gets the flight's signal, which aborts only once every caller has left.
    return this.flights.run(flightKey, (signal) => this.syncPath(ctx, { ...options, signal }), options.signal);
  }

  /** Re-read the store; request under the lease only if what is stored won't do. */
  private async syncPath(ctx: ConnectionContext, options: AccessOptions): Promise<TokenState> {
    if (!options.forceRefresh) {
      const verdict = decide(await this.reload(ctx), this.deps.clock.now(), options, ctx);
      if (verdict.kind === "serve") return verdict.state;
      if (verdict.kind === "refuse") throw verdict.error;
    }
    const history: RefreshHistory = { refreshTimedOut: false };
    const attempt = async () => (await this.attempt(ctx, options, "wait", history))!;
    return withRetries(attempt, this.deps.clock, this.deps.retry, options.signal);
  }

  /** One attempt under the store lease. Undefined only in `try` mode when another holder has it. */
  private async attempt(ctx: ConnectionContext, want: AccessOptions, mode: "wait" | "try", history?: RefreshHistory): Promise<TokenState | undefined> {
    const { store, clock } = this.deps;
    const input = { ctx, want, history, clock, holder: this.deps.holder, readStored: async () => (await store.get<TokenState>(this.key))?.value, adopt: (record: Parameters<StateView["adopt"]>[0]) => this.view.adopt(record, ctx) };
    let outcome: Outcome = { baseGeneration: 0 };
    let result: UpdateResult<TokenState>;
    try {
      const leaseMs = ctx.timeoutMs + LEASE_MARGIN_MS;
      const options = { mode, deadline: clock.now() + leaseMs + ctx.timeoutMs, leaseMs, holder: this.deps.holder, signal: want.signal };
      result = await store.update<TokenState>(
        this.key,
        async (current, lease) => {
          outcome = { baseGeneration: current?.generation ?? 0 };
          outcome = await attemptUnderLease(input, current, lease);
          return outcome.write;
        },
        options,
      );
    } catch (err) {
      // Only the log of a failed request did not land: the caller gets the request's failure.
      if (outcome.logOnly) throw failureError(ctx, outcome.failure, history?.refreshTimedOut);
      // The server answered but the write failed: keep the answer, retry the fenced write (§2.4).
      if (!outcome.produced) throw err instanceof TokenSmithError ? err.withConnection(ctx.name) : err;
      this.view.adopt(await persistFenced(store, this.key, outcome.baseGeneration, outcome.write!, clock), ctx, outcome.produced);
      return outcome.produced;
    }
    if (result.status === "busy") return undefined;
    if (result.status === "written") this.view.adopt(result.record, ctx, outcome.produced);
    if (outcome.failure) throw failureError(ctx, outcome.failure, history?.refreshTimedOut);
    return this.view.state;
  }

  /** Before the store closes: no new background refresh, and what is in flight ends (a rotated refresh token reaches the store). */
  async drain(): Promise<void> {
    this.closing = true;
    await Promise.allSettled([this.background, this.flights.settled(), this.invalidations.settled()]);
  }

  /** Background refresh inside the margin (§2.3): callers keep the current token meanwhile. */
  private startBackground(ctx: ConnectionContext): void {
    if (this.closing || this.background || this.deps.clock.now() < this.backgroundNotBefore) return;
    this.background = (async () => {
      // Another process may have refreshed already: re-read before asking for the lease.
      const verdict = decide(await this.reload(ctx), this.deps.clock.now(), {}, ctx);
      if (verdict.kind === "serve" && !verdict.refreshAhead) return;
      const refreshed = await this.attempt(ctx, { ahead: true }, "try");
      if (!refreshed) this.backgroundNotBefore = this.deps.clock.now() + BACKGROUND_RECHECK_MS;
    })()
      .catch((err: unknown) => {
        this.backgroundNotBefore = this.deps.clock.now() + BACKGROUND_BACKOFF_MS;
        this.deps.onWarning?.(`background refresh of "${ctx.name}" failed: ${err instanceof Error ? err.message : String(err)}`);
      })
      .finally(() => {
        this.background = undefined;
      });
  }

  /** `cache: none`: a new token for every request, no store, no single flight (§2.8). */
  private requestUncached(ctx: ConnectionContext, options: AccessOptions): Promise<TokenState> {
    return requestUncached(ctx, this.deps, options.signal, () => this.uncachedRequests++);
  }

  /**
   * An API answered 401 to `token` (§2.11): drop exactly that token, here and in the store
   * (compare-and-invalidate by hash), so 50 simultaneous 401s cause one refresh.
   */
  async invalidate(ctx: ConnectionContext, token: string): Promise<string> {
    const hash = hashSecret(token);
    if (this.isDead(hash)) return hash;
    // A token another process found dead stays: it drives no refresh (§2.11).
    const applies = (state: TokenState) => !isMarkedDead(state, hash, this.deps.clock.now());
    if (ctx.cache !== "shared") this.changeHeld(ctx, hash, { type: "invalidated" });
    else await this.invalidations.run(hash, () => this.changeToken(ctx, hash, { type: "invalidated" }, applies));
    return hash;
  }

  /** True when the token with `hash` got a 401 right after it was issued, here or in a process sharing the store: no 401-driven refreshes for it (§2.11). */
  isDead(hash: string): boolean {
    const now = this.deps.clock.now();
    return isMarkedDead(this.view.state, hash, now) || (this.deadHashes.get(hash) ?? 0) > now;
  }

  /**
   * A token issued just now got a 401 too: mark it dead here and in the store, compare-and-set by
   * hash so a newer token is never marked. A refresh (expiry, `--force-refresh`, login) replaces both.
   */
  async markDead(ctx: ConnectionContext, token: string): Promise<void> {
    const hash = hashSecret(token);
    const now = this.deps.clock.now();
    const event: StateEvent = { type: "marked_dead", hash, until: now + DEAD_MARK_MS };
    if (this.view.state?.accessToken !== token && ctx.cache === "none") {
      for (const [known, until] of this.deadHashes) if (until <= now) this.deadHashes.delete(known); // lapsed marks go
      this.deadHashes.set(hash, event.until);
    }
    if (ctx.cache !== "shared") this.changeHeld(ctx, hash, event);
    else await this.changeToken(ctx, hash, event, () => true);
  }

  /** Apply `event` to the held state if it holds the token with `hash` (no store: `cache` process or none). */
  private changeHeld(ctx: ConnectionContext, hash: string, event: StateEvent): void {
    const held = this.view.state;
    if (held && holdsToken(held, hash)) this.view.set(this.view.generation ?? 0, transition(held, event, this.deps.clock.now()), ctx.refreshMarginMs);
  }

  /** Apply `event` here and in the store, compare-and-set on the token's hash. */
  private async changeToken(ctx: ConnectionContext, hash: string, event: StateEvent, applies: (state: TokenState) => boolean): Promise<void> {
    this.changeHeld(ctx, hash, event);
    const result = await this.deps.store.update<TokenState>(
      this.key,
      (current) => (current && holdsToken(current.value, hash) && applies(current.value) ? transition(current.value, event, this.deps.clock.now()) : undefined),
      { mode: "wait", deadline: this.deps.clock.now() + ctx.timeoutMs + LEASE_MARGIN_MS * 2, holder: this.deps.holder },
    );
    if (result.status !== "busy") this.view.adopt(result.record, ctx);
  }

  /**
   * Write a state under the lease: a login's tokens, a tombstone, an import. `fn` sees the
   * current state and returns the next one (from `transition()`), or undefined to leave it.
   */
  async write(ctx: ConnectionContext, fn: StateWriter, options: { discardUnreadable?: boolean } = {}): Promise<TokenState | undefined> {
    const leaseMs = ctx.timeoutMs + LEASE_MARGIN_MS;
    let written: TokenState | undefined;
    const result = await this.deps.store.update<TokenState>(
      this.key,
      async (current, lease) => {
        written = await fn(current?.value, lease);
        return written && storedForm(written, ctx.cache);
      },
      { mode: "wait", deadline: this.deps.clock.now() + leaseMs + ctx.timeoutMs, leaseMs, holder: this.deps.holder, discardUnreadable: options.discardUnreadable },
    );
    if (result.status !== "busy") this.view.adopt(result.record, ctx, result.status === "written" ? written : undefined);
    return this.view.state;
  }

  /** Read the store now (status, after a 401). */
  async reload(ctx: ConnectionContext): Promise<TokenState | undefined> {
    return this.view.adopt(await this.deps.store.get<TokenState>(this.key), ctx);
  }
}

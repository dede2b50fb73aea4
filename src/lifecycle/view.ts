import type { StoreRecord } from "../store/types.js";
import { lifetimeOf, live, type TokenState } from "./state.js";
import { refreshAt, usableUntil } from "./timing.js";
import { withAccessTokenOf, withoutAccessToken } from "./transitions.js";

export type CacheMode = "shared" | "process" | "none";

/** The connection settings the view needs (connections sharing a state may differ in them). */
export interface ViewContext {
  cache: CacheMode;
  refreshMarginMs?: number;
}

/** What goes to the store: everything, or all but the access token with `cache: process` (§2.8). */
export function storedForm(state: TokenState, cache: CacheMode): TokenState {
  return cache === "process" && !state.tombstone ? withoutAccessToken(state) : state;
}

/**
 * This process's copy of one token state and its generation, with the hand-out deadlines
 * precomputed so the cache-hit path is a comparison. It only moves forward: a record older than
 * the one held is ignored.
 */
export class StateView {
  private memory?: { generation: number; state: TokenState; usableUntil: number; refreshAt: number };

  get state(): TokenState | undefined {
    return this.memory?.state;
  }

  get generation(): number | undefined {
    return this.memory?.generation;
  }

  /** The access token if it may be handed out at `now` (the hot path: no allocation). */
  tokenAt(now: number): string | undefined {
    const memo = this.memory;
    return memo && now < memo.usableUntil ? memo.state.accessToken : undefined;
  }

  /** True when a long-running process should refresh the held token in the background. */
  dueAt(now: number): boolean {
    return !!this.memory && now >= this.memory.refreshAt;
  }

  /** Replace the held state (same generation: an in-memory change such as a 401). */
  set(generation: number, state: TokenState, marginMs: number | undefined): void {
    const lifetime = live(state) && lifetimeOf(state);
    this.memory = {
      generation,
      state,
      usableUntil: lifetime ? usableUntil(lifetime) : -Infinity,
      refreshAt: lifetime ? refreshAt(lifetime, marginMs) : -Infinity,
    };
  }

  /** Take a record read from the store, keeping a newer one held. `produced`: the state just written. */
  adopt(record: StoreRecord<TokenState> | undefined, ctx: ViewContext, produced?: TokenState): TokenState | undefined {
    if (!record) return this.memory?.state;
    if (this.memory && record.generation < this.memory.generation) return this.memory.state;
    let state = record.value;
    // `cache: process`: the store holds no access token; keep ours, or the one just produced.
    if (ctx.cache === "process" && !state.tombstone) state = withAccessTokenOf(state, produced ?? this.memory?.state);
    this.set(record.generation, state, ctx.refreshMarginMs);
    return state;
  }
}

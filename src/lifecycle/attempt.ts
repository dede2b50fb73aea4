import type { Clock } from "../clock.js";
import { isTransient, TokenSmithError } from "../errors.js";
import type { GrantRequest, TokenSet } from "../protocol/types.js";
import type { Lease, StoreRecord } from "../store/types.js";
import { decide, failureError, failureEvent, type GrantPolicy, type Wanted } from "./decide.js";
import { requestEntry, type HistoryEntry } from "./history.js";
import { withRetries, type RetryPolicy } from "./retry.js";
import { requestWithRecovery } from "./recovery.js";
import type { TokenState } from "./state.js";
import { transition, type IssuePolicy } from "./transitions.js";
import { storedForm, type ViewContext } from "./view.js";

/** Extra lease time beyond the request timeout, for the store write that follows (§2.5). */
export const LEASE_MARGIN_MS = 5_000;
/** Lease time kept back from a request's timeout so the write still happens under the lease. */
export const WRITE_RESERVE_MS = 1_000;

/** One token request, as the protocol layer makes it. */
export interface TokenRequester {
  request(grant: GrantRequest, options: { timeoutMs: number; signal?: AbortSignal }): Promise<{ tokens: TokenSet; sentAt: number }>;
}

/** What the lifecycle needs to know of the connection that is asking. */
export interface ConnectionContext extends GrantPolicy, IssuePolicy, ViewContext {
  timeoutMs: number;
  scopeSeparator: string;
  requester: TokenRequester;
}

/**
 * A refresh's earlier attempts: a refresh_token request that timed out may have been rotated
 * at the server, which explains an `invalid_grant` on the retry (§2.7).
 */
export interface RefreshHistory {
  refreshTimedOut: boolean;
}

/** What one attempt under the lease came to: the state to write, and the new state or the failure. */
export interface Outcome {
  /** The store generation the attempt read (a failed write is retried fenced on it, §2.4). */
  baseGeneration: number;
  write?: TokenState;
  produced?: TokenState;
  failure?: unknown;
  /** The write only logs failed requests (`requests_failed`): if it fails, the request's failure is what the caller gets. */
  logOnly?: boolean;
}

export interface AttemptInput {
  ctx: ConnectionContext;
  want: Wanted;
  history?: RefreshHistory;
  clock: Clock;
  /** "pid@host", for the request history. */
  holder: string;
  /** The store's current record, read again without the lease (stale-read recovery, §2.6). */
  readStored(): Promise<TokenState | undefined>;
  /** Takes the store record read under the lease as this process's view; returns the state. */
  adopt(record: StoreRecord<TokenState> | undefined): TokenState | undefined;
}

/**
 * The work done under the store lease (SPEC §2.2, §2.5): decide on the state read under the
 * lease, make the token request with its timeout clamped to the lease, and turn the answer
 * (or the OAuth error) into the next state through a transition. A refusal throws.
 */
export async function attemptUnderLease(input: AttemptInput, current: StoreRecord<TokenState> | undefined, lease: Lease): Promise<Outcome> {
  const { ctx, want, history, clock } = input;
  const baseGeneration = current?.generation ?? 0;
  const now = clock.now();
  const held = input.adopt(current);
  const verdict = decide(held, now, want, ctx);
  if (verdict.kind === "serve") return { baseGeneration };
  if (verdict.kind === "refuse") throw verdict.error;
  let requests = 0;
  const entries: HistoryEntry[] = [];
  const who = { connection: ctx.name, process: input.holder };
  const send = (grant: GrantRequest) => {
    requests++;
    const sentAt = clock.now();
    const name = grant.kind === "custom" ? (ctx.grantType ?? "custom") : grant.kind;
    return ctx.requester.request(grant, { timeoutMs: timeoutWithin(lease, ctx.timeoutMs), signal: lease.signal }).then(
      (answer) => {
        entries.push(requestEntry(who, name, sentAt, clock.now()));
        return answer;
      },
      (err: unknown) => {
        entries.push(requestEntry(who, name, sentAt, clock.now(), err));
        if (grant.kind === "refresh_token" && err instanceof TokenSmithError && err.code === "timeout" && history) history.refreshTimedOut = true;
        throw err;
      },
    );
  };
  try {
    const answer = await requestWithRecovery(verdict.grant, send, input.readStored, ctx);
    const produced = transition(verdict.base, { type: "issued", ...answer, requests, policy: ctx, entries }, clock.now());
    return { baseGeneration, produced, write: storedForm(produced, ctx.cache) };
  } catch (failure) {
    const event = isTransient(failure) ? undefined : failureEvent(failure, verdict.grant, ctx, requests, !!history?.refreshTimedOut);
    if (event) return { baseGeneration, failure, write: transition(verdict.base, { ...event, entries }, now) };
    // Nothing else changes (a transient failure is retried): the requests are logged on the
    // state as read, so a tombstone stays one and a seed not yet used stays unused.
    if (!entries.length) return { baseGeneration, failure };
    const logged = transition(held, { type: "requests_failed", entries }, now);
    return { baseGeneration, failure, write: storedForm(logged, ctx.cache), logOnly: true };
  }
}

/**
 * A request's timeout under a lease (§2.5): never longer than the lease has left, less the
 * time the store write after it needs.
 */
export function timeoutWithin(lease: Lease, timeoutMs: number): number {
  return Math.max(1, Math.min(timeoutMs, lease.timeLeft() - WRITE_RESERVE_MS));
}

/** `cache: none` (§2.8): a new token for every request, with retries, and no store or single flight. */
export async function requestUncached(ctx: ConnectionContext, deps: { clock: Clock; retry?: RetryPolicy }, signal: AbortSignal | undefined, count: () => void): Promise<TokenState> {
  const once = async () => {
    count();
    const verdict = decide(undefined, deps.clock.now(), {}, ctx);
    if (verdict.kind === "refuse") throw verdict.error;
    if (verdict.kind === "serve") return verdict.state;
    const answer = await ctx.requester.request(verdict.grant, { timeoutMs: ctx.timeoutMs, signal });
    return transition(undefined, { type: "issued", ...answer, grant: verdict.grant, requests: 1, policy: ctx }, deps.clock.now());
  };
  return withRetries(once, deps.clock, deps.retry, signal).catch((err: unknown) => {
    throw failureError(ctx, err);
  });
}

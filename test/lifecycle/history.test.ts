import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { TokenSmithError } from "../../src/errors.js";
import { appended, HISTORY_LIMIT, readHistory, requestEntry, type HistoryEntry } from "../../src/lifecycle/history.js";
import { decide } from "../../src/lifecycle/decide.js";
import { TokenManager, type ConnectionContext, type TokenRequester } from "../../src/lifecycle/manager.js";
import type { TokenState } from "../../src/lifecycle/state.js";
import { portable, transition } from "../../src/lifecycle/transitions.js";
import type { TokenSet } from "../../src/protocol/types.js";
import { createMemoryStore } from "../../src/store/memory.js";
import { createSealer } from "../../src/store/sealed.js";
import type { Store } from "../../src/store/types.js";
import { ManualClock } from "../support/clock.js";

const T0 = Date.UTC(2026, 0, 1);
const who = { connection: "billing", process: "42@host" };
const tokens: TokenSet = { accessToken: "at-secret-1", tokenType: "Bearer", expiresInMs: 60_000, refreshToken: "rt-secret-1", extra: {} };
const policy = { defaultTtl: 3_600_000, scopes: [] };
const entry = (at: number, result: HistoryEntry["result"] = "ok"): HistoryEntry => ({ at, connection: "billing", grant: "client_credentials", result, ms: 5, process: "42@host" });
const oauthError = new TokenSmithError("oauth_error", "the server refused: invalid_grant (the description with rt-secret-1)", {
  error: "invalid_grant",
  errorDescription: "the description with rt-secret-1",
  status: 400,
});

describe("the request history of a token state", () => {
  it("appends the entries of each request event to what the state had", () => {
    const issued = transition(undefined, { type: "issued", tokens, sentAt: T0, grant: { kind: "client_credentials" }, requests: 1, policy, entries: [entry(T0)] }, T0);
    const refused = transition(issued, { type: "refresh_refused", error: oauthError, requests: 1, entries: [entry(T0 + 1, "error")] }, T0 + 1);
    const remembered = transition(refused, { type: "error_remembered", error: oauthError, requests: 1, entries: [entry(T0 + 2, "error")] }, T0 + 2);
    const failed = transition(remembered, { type: "requests_failed", entries: [entry(T0 + 3, "error")] }, T0 + 3);
    assert.deepEqual(failed.history?.map((e) => e.at), [T0, T0 + 1, T0 + 2, T0 + 3]);
    // requests_failed changes nothing but the history.
    const { history: _a, ...before } = remembered;
    const { history: _b, ...after } = failed;
    assert.deepEqual(after, before);
  });

  it(`keeps the last ${HISTORY_LIMIT} entries, dropping the oldest`, () => {
    let state: TokenState | undefined;
    for (let i = 0; i < HISTORY_LIMIT + 7; i++) state = transition(state, { type: "requests_failed", entries: [entry(T0 + i, "error")] }, T0 + i);
    assert.equal(state!.history!.length, HISTORY_LIMIT);
    assert.equal(state!.history![0]!.at, T0 + 7);
    assert.equal(appended(undefined, []), undefined);
  });

  it("survives refreshes, a removal (with the removal as an entry), the next login and an import", () => {
    const issued = transition(undefined, { type: "issued", tokens, sentAt: T0, grant: { kind: "client_credentials" }, requests: 1, policy, entries: [entry(T0)] }, T0);
    const refreshed = transition(issued, { type: "issued", tokens, sentAt: T0 + 1, grant: { kind: "refresh_token", refreshToken: "rt-secret-1" }, requests: 1, policy }, T0 + 1);
    assert.equal(refreshed.history?.length, 1, "an event without entries keeps the history");
    const removed = transition(refreshed, { type: "removed", reason: "logout", by: who }, T0 + 2);
    assert.ok(removed.tombstone);
    assert.deepEqual(removed.history?.at(-1), { at: T0 + 2, connection: "billing", result: "removed", reason: "logout", process: "42@host" });
    const loggedIn = transition(removed, { type: "logged_in", tokens, sentAt: T0 + 3, requests: 1, policy, entries: [entry(T0 + 3)] }, T0 + 3);
    assert.equal(loggedIn.history?.length, 3);
    const bundle = portable({ ...loggedIn, history: [entry(T0 - 99)] });
    assert.equal(bundle.history, undefined, "an export bundle carries no history");
    const imported = transition(loggedIn, { type: "imported", state: { ...bundle, history: [entry(T0 - 99)] } }, T0 + 4);
    assert.deepEqual(imported.history, loggedIn.history, "an import keeps this machine's history, not the bundle's");
  });

  it("keeps codes of a failure, never its description or a secret", () => {
    const e = requestEntry(who, "refresh_token", T0, T0 + 120, oauthError);
    assert.deepEqual(e, { at: T0, connection: "billing", grant: "refresh_token", result: "error", ms: 120, code: "oauth_error", error: "invalid_grant", status: 400, process: "42@host" });
    assert.ok(!JSON.stringify(e).includes("secret"));
    const long = requestEntry(who, "refresh_token", T0, T0, new TokenSmithError("oauth_error", "x", { error: "e".repeat(500) }));
    assert.ok(long.error!.length <= 65);
    assert.equal(requestEntry(who, "password", T0, T0, new Error("boom")).code, "unexpected");
    assert.equal(requestEntry(who, "password", T0, T0, new DOMException("the caller left", "AbortError")).code, "aborted");
  });

  it("leaves the record's format as it was: a state with a history decides and seals as one without (older versions read past it)", () => {
    const older = transition(undefined, { type: "issued", tokens, sentAt: T0, grant: { kind: "client_credentials" }, requests: 1, policy }, T0);
    assert.equal(older.history, undefined, "a state without entries has no history field at all");
    const newer = transition(older, { type: "requests_failed", entries: [entry(T0)] }, T0);
    assert.equal(newer.v, 1);
    const grantPolicy = { name: "billing", grant: "client_credentials" as const, loginCommand: "tokensmith login billing" };
    for (const now of [T0 + 1_000, T0 + 59_000, T0 + 61_000]) {
      const [a, b] = [decide(older, now, {}, grantPolicy), decide(newer, now, {}, grantPolicy)];
      assert.equal(a.kind, b.kind);
    }
    const sealer = createSealer({ key: randomBytes(32) });
    const opened = sealer.open<TokenState>("state:billing", 2, sealer.seal("state:billing", 2, newer));
    assert.deepEqual(opened, JSON.parse(JSON.stringify(newer)));
  });

  it("reads back only entries of the right shape", () => {
    assert.deepEqual(readHistory(undefined), []);
    assert.deepEqual(readHistory([entry(T0), null, "x", { at: "no" }]), [entry(T0)]);
  });
});

/** A memory store that counts the writes that landed. */
function countingStore(clock: ManualClock): { store: Store; writes: () => number } {
  const inner = createMemoryStore({ clock });
  let writes = 0;
  return {
    writes: () => writes,
    store: {
      ...inner,
      kind: inner.kind,
      get: (key) => inner.get(key),
      update: async (key, fn, options) => {
        const result = await inner.update(key, fn, options);
        if (result.status === "written") writes++;
        return result;
      },
      close: () => inner.close(),
    },
  };
}

function context(requester: TokenRequester, overrides: Partial<ConnectionContext> = {}): ConnectionContext {
  return { name: "billing", grant: "client_credentials", cache: "shared", defaultTtl: 3_600_000, timeoutMs: 5_000, scopes: [], scopeSeparator: " ", loginCommand: "tokensmith login billing", requester, ...overrides };
}

describe("the request history written by the manager", () => {
  it("costs no store write beyond the one of the answer; a transient failure writes only its entry", async () => {
    const clock = new ManualClock(T0);
    const { store, writes } = countingStore(clock);
    const failures: unknown[] = [new TokenSmithError("network_error", "reset", {})];
    const requester: TokenRequester = {
      async request() {
        const failure = failures.shift();
        clock.advance(7);
        if (failure) throw failure;
        return { tokens, sentAt: clock.now() - 7 };
      },
    };
    const manager = new TokenManager("state:billing", { store, clock, refreshAhead: false, holder: "42@host" });
    await manager.access(context(requester));
    assert.equal(writes(), 2, "the failed attempt's entry, then the answer");
    const state = (await store.get<TokenState>("state:billing"))!.value;
    assert.deepEqual(state.history?.map((e) => [e.result, e.code ?? null, e.ms]), [["error", "network_error", 7], ["ok", null, 7]]);
    assert.equal(state.tokenRequests, 1, "the counter counts answered requests, as before");
    // A cached token: no request, no write.
    await manager.access(context(requester));
    assert.equal(writes(), 2);
  });

  it("logs a transient failure on the state as stored: a tombstone stays one, a seed stays unused", async () => {
    const clock = new ManualClock(T0);
    const store = createMemoryStore({ clock });
    await store.update<TokenState>("state:billing", () => transition(undefined, { type: "removed", reason: "revoked", by: who }, T0), { mode: "wait" });
    const requester: TokenRequester = {
      async request() {
        throw new TokenSmithError("timeout", "timed out", {});
      },
    };
    const manager = new TokenManager("state:billing", { store, clock, refreshAhead: false, holder: "42@host", retry: { retries: 0, baseMs: 1, capMs: 1, budgetMs: 1 } });
    const ctx = context(requester, { grant: "refresh_token", seedRefreshToken: "seed-secret-1" });
    await assert.rejects(manager.access(ctx), (err: TokenSmithError) => err.code === "timeout");
    const state = (await store.get<TokenState>("state:billing"))!.value;
    assert.equal(state.tombstone?.reason, "revoked");
    assert.equal(state.seeds, undefined, "the seed was not used up by a request that got no answer");
    assert.equal(state.refreshToken, undefined);
    assert.deepEqual(state.history?.map((e) => [e.result, e.reason ?? e.code]), [["removed", "revoked"], ["error", "timeout"]]);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { systemClock, type Clock } from "../../src/clock.js";
import { TokenSmithError } from "../../src/errors.js";
import { DEAD_MARK_MS, TokenManager, type ConnectionContext, type TokenRequester } from "../../src/lifecycle/manager.js";
import type { TokenState } from "../../src/lifecycle/state.js";
import { minimumTokenRequests } from "../../src/lifecycle/timing.js";
import type { GrantRequest, TokenSet } from "../../src/protocol/types.js";
import { hashSecret } from "../../src/redact.js";
import { createMemoryStore } from "../../src/store/memory.js";
import type { Store } from "../../src/store/types.js";
import { ManualClock } from "../support/clock.js";

/** A token endpoint in memory: numbered tokens, rotating refresh tokens, a request log. */
function fakeServer(clock: Clock, lifetimeMs = 2000, resolutionMs?: number) {
  const log: GrantRequest[] = [];
  let n = 0;
  let currentRefresh = "";
  const failures: unknown[] = [];
  const requester: TokenRequester = {
    async request(grant) {
      log.push(grant);
      const sentAt = clock.now();
      await new Promise((resolve) => setImmediate(resolve));
      const failure = failures.shift();
      if (failure) throw failure;
      if (grant.kind === "refresh_token") {
        if (grant.refreshToken !== currentRefresh) {
          throw new TokenSmithError("oauth_error", "invalid_grant", { error: "invalid_grant", status: 400 });
        }
      }
      n++;
      currentRefresh = `refresh-${n}`;
      const tokens: TokenSet = { accessToken: `access-${n}`, tokenType: "Bearer", expiresInMs: lifetimeMs, refreshToken: currentRefresh, extra: {}, ...(resolutionMs ? { resolutionMs } : {}) };
      return { tokens, sentAt };
    },
  };
  return {
    requester,
    log,
    failures,
    seed: (value: string) => {
      currentRefresh = value;
    },
  };
}

function context(requester: TokenRequester, overrides: Partial<ConnectionContext> = {}): ConnectionContext {
  return {
    name: "test",
    grant: "client_credentials",
    cache: "shared",
    defaultTtl: 3_600_000,
    timeoutMs: 5_000,
    scopes: [],
    scopeSeparator: " ",
    loginCommand: "tokensmith login test",
    requester,
    ...overrides,
  };
}

function manager(clock: Clock, refreshAhead = true, store = createMemoryStore({ clock })) {
  return new TokenManager("state:test", { store, clock, refreshAhead, holder: "test" });
}

describe("TokenManager", () => {
  it("makes exactly one token request for 200 concurrent callers on an empty cache", async () => {
    const clock = new ManualClock();
    const server = fakeServer(clock);
    const m = manager(clock);
    const ctx = context(server.requester);
    const states = await Promise.all(Array.from({ length: 200 }, () => m.access(ctx)));
    assert.equal(server.log.length, 1);
    assert.ok(states.every((s) => s.accessToken === "access-1"));
  });

  it("serves a cached token without a request, and refreshes in the background inside the margin", async () => {
    const clock = new ManualClock();
    const server = fakeServer(clock, 2000);
    const m = manager(clock);
    const ctx = context(server.requester);
    await m.access(ctx);
    clock.advance(1000);
    assert.equal((await m.access(ctx)).accessToken, "access-1");
    assert.equal(server.log.length, 1);
    clock.advance(650); // 1650 ms: past refreshAt (2000 - 200 skew - 200 margin = 1600)
    assert.equal((await m.access(ctx)).accessToken, "access-1", "callers keep the current token");
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(server.log.length, 2);
    assert.equal((await m.access(ctx)).accessToken, "access-2");
  });

  it("drain() waits for a background refresh in flight to write its answer, and starts none after", async () => {
    const clock = new ManualClock();
    const server = fakeServer(clock, 2000);
    let answer!: () => void;
    const held = new Promise<void>((resolve) => (answer = resolve));
    const requester: TokenRequester = { request: async (grant, options) => (server.log.length === 1 && (await held), server.requester.request(grant, options)) };
    const store = createMemoryStore({ clock });
    const m = manager(clock, true, store);
    const ctx = context(requester);
    await m.access(ctx);
    clock.advance(1650); // inside the margin: a background refresh starts, held at the server
    assert.equal((await m.access(ctx)).accessToken, "access-1");
    let drained = false;
    const draining = m.drain().then(() => (drained = true));
    await delay(20);
    assert.equal(drained, false, "drain() waits for the refresh in flight");
    answer();
    await draining;
    assert.equal((await store.get<TokenState>("state:test"))?.value.refreshToken, "refresh-2", "the rotated refresh token is in the store");
    clock.advance(200);
    await m.access(ctx);
    await delay(20);
    assert.equal(server.log.length, 2, "no background refresh after drain()");
  });

  it("counts one second off a whole-number expires_in before the skew allowance (SPEC §2.10)", async () => {
    const clock = new ManualClock();
    // expires_in: 2 from a server that floors its clock: the token may die 1 s after issue.
    const server = fakeServer(clock, 2000, 1000);
    const m = manager(clock, false);
    const ctx = context(server.requester);
    await m.access(ctx);
    clock.advance(750); // usable until 2000 - 1000 resolution - 200 skew = 800 ms
    assert.equal((await m.access(ctx)).accessToken, "access-1");
    assert.equal(server.log.length, 1);
    clock.advance(100);
    assert.equal((await m.access(ctx)).accessToken, "access-2", "a token past expires_in - 1 s - skew is not handed out");
    assert.equal(minimumTokenRequests(10_000, 2000), 17);
    assert.equal(minimumTokenRequests(15_000, 4000), 7);
  });

  it("never hands out an expired token and stays at the minimum number of requests", async () => {
    const clock = new ManualClock();
    const server = fakeServer(clock, 2000);
    const m = manager(clock);
    const ctx = context(server.requester);
    const start = clock.now();
    while (clock.now() - start < 10_000) {
      const states = await Promise.all(Array.from({ length: 20 }, () => m.access(ctx)));
      for (const s of states) assert.ok(s.expiresAt! - 200 > clock.now(), "token usable when handed out");
      clock.advance(50);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(server.log.length <= minimumTokenRequests(10_000, 2000), `${server.log.length} requests`);
  });

  it("keeps the old refresh token when a refresh response has none", async () => {
    const clock = new ManualClock();
    let calls = 0;
    const requester: TokenRequester = {
      async request(grant) {
        calls++;
        const tokens: TokenSet = { accessToken: `a${calls}`, tokenType: "Bearer", expiresInMs: 2000, extra: {} };
        if (grant.kind !== "refresh_token") tokens.refreshToken = "first-refresh";
        return { tokens, sentAt: clock.now() };
      },
    };
    const m = manager(clock, false);
    const ctx = context(requester, { grant: "password" });
    await m.access(ctx);
    clock.advance(5000);
    const state = await m.access(ctx);
    assert.equal(state.accessToken, "a2");
    assert.equal(state.refreshToken, "first-refresh");
  });

  it("marks a user grant 'authorization required' on invalid_grant and keeps the refresh token", async () => {
    const clock = new ManualClock();
    const server = fakeServer(clock);
    server.seed("the-seed");
    const m = manager(clock, false);
    const ctx = context(server.requester, { grant: "refresh_token", seedRefreshToken: "the-seed" });
    await m.access(ctx);
    server.seed("rotated-elsewhere");
    clock.advance(5000);
    await assert.rejects(m.access(ctx), (err: TokenSmithError) => err.code === "reauthorization_required" && /tokensmith login test/.test(err.hint ?? ""));
    const requests = server.log.length;
    await assert.rejects(m.access(ctx), { code: "reauthorization_required" });
    assert.equal(server.log.length, requests, "the dead end is remembered: no further request");
    const state = m.peek() as TokenState;
    assert.equal(state.refreshToken, "refresh-1", "the refresh token is kept, flagged");
  });

  it("uses a seed once, and adopts a new seed over an existing state", async () => {
    const clock = new ManualClock();
    const server = fakeServer(clock);
    server.seed("seed-A");
    const m = manager(clock, false);
    let ctx = context(server.requester, { grant: "refresh_token", seedRefreshToken: "seed-A" });
    await m.access(ctx);
    assert.deepEqual(server.log[0], { kind: "refresh_token", refreshToken: "seed-A" });
    clock.advance(5000);
    await m.access(ctx);
    assert.deepEqual(server.log[1], { kind: "refresh_token", refreshToken: "refresh-1" }, "a used seed is never sent again");
    server.seed("seed-B");
    ctx = context(server.requester, { grant: "refresh_token", seedRefreshToken: "seed-B" });
    clock.advance(5000);
    await m.access(ctx);
    assert.deepEqual(server.log[2], { kind: "refresh_token", refreshToken: "seed-B" });
  });

  it("retries transient errors with backoff and remembers OAuth errors", async () => {
    const clock = new ManualClock();
    const server = fakeServer(clock);
    server.failures.push(new TokenSmithError("invalid_response", "503", { status: 503, retryAfter: 1 }));
    const m = manager(clock, false);
    const ctx = context(server.requester);
    const before = clock.now();
    assert.equal((await m.access(ctx)).accessToken, "access-1");
    assert.ok(clock.now() - before >= 1000, "Retry-After honoured");
    clock.advance(5000);
    server.failures.push(new TokenSmithError("oauth_error", "invalid_client", { error: "invalid_client", status: 401 }));
    await assert.rejects(m.access(ctx), { code: "oauth_error" });
    const requests = server.log.length;
    await assert.rejects(m.access(ctx), { code: "oauth_error" });
    assert.equal(server.log.length, requests, "not hammered during the backoff");
    assert.equal((await m.access(ctx, { forceRefresh: true })).accessToken, "access-2");
  });

  it("invalidates exactly the token an API refused, once for many simultaneous 401s", async () => {
    const clock = new ManualClock();
    const server = fakeServer(clock, 60_000);
    const m = manager(clock);
    const ctx = context(server.requester);
    const first = (await m.access(ctx)).accessToken!;
    const hashes = await Promise.all(Array.from({ length: 50 }, () => m.invalidate(ctx, first)));
    const states = await Promise.all(hashes.map((rejectHash) => m.access(ctx, { rejectHash })));
    assert.equal(server.log.length, 2);
    assert.ok(states.every((s) => s.accessToken === "access-2"));
  });

  it("keeps a dead-token mark in the store, so another manager sharing it neither drops nor refreshes that token", async () => {
    const clock = new ManualClock();
    const server = fakeServer(clock, 60_000);
    const store = createMemoryStore({ clock });
    const ctx = context(server.requester);
    const first = manager(clock, false, store);
    const token = (await first.access(ctx)).accessToken!;
    await first.markDead(ctx, token);
    assert.equal((await store.get<TokenState>("state:test"))!.value.deadHash, hashSecret(token));
    const second = manager(clock, false, store);
    assert.equal((await second.access(ctx)).accessToken, token);
    assert.equal(second.isDead(hashSecret(token)), true);
    await second.invalidate(ctx, token);
    assert.equal((await store.get<TokenState>("state:test"))!.value.accessToken, token, "a dead token is not dropped: no 401 refreshes it");
    assert.equal(server.log.length, 1);
  });

  it("finds out from the store that a token it still holds was marked dead by another manager, when it tries to drop it", async () => {
    const clock = new ManualClock();
    const server = fakeServer(clock, 60_000);
    const store = createMemoryStore({ clock });
    const ctx = context(server.requester);
    const stale = manager(clock, false, store);
    const token = (await stale.access(ctx)).accessToken!;
    await manager(clock, false, store).markDead(ctx, token);
    assert.equal(stale.isDead(hashSecret(token)), false);
    await stale.invalidate(ctx, token);
    assert.equal(stale.isDead(hashSecret(token)), true);
    assert.equal((await store.get<TokenState>("state:test"))!.value.accessToken, token);
  });

  it("never marks a newer token dead (compare-and-set by hash)", async () => {
    const clock = new ManualClock();
    const server = fakeServer(clock, 60_000);
    const store = createMemoryStore({ clock });
    const ctx = context(server.requester);
    const first = manager(clock, false, store);
    const old = (await first.access(ctx)).accessToken!;
    const newer = (await manager(clock, false, store).access(ctx, { forceRefresh: true })).accessToken!;
    await first.markDead(ctx, old);
    const stored = (await store.get<TokenState>("state:test"))!.value;
    assert.equal(stored.accessToken, newer);
    assert.equal(stored.deadHash, undefined);
    assert.equal(first.isDead(hashSecret(newer)), false);
  });

  it("clears the dead mark with the token when it expires and a normal refresh replaces it", async () => {
    const clock = new ManualClock();
    const server = fakeServer(clock, 60_000);
    const store = createMemoryStore({ clock });
    const ctx = context(server.requester);
    const m = manager(clock, false, store);
    const dead = (await m.access(ctx)).accessToken!;
    await m.markDead(ctx, dead);
    clock.advance(61_000);
    const fresh = (await manager(clock, false, store).access(ctx)).accessToken!;
    assert.notEqual(fresh, dead);
    assert.equal(server.log.length, 2);
    assert.equal((await store.get<TokenState>("state:test"))!.value.deadHash, undefined);
    assert.equal((await m.access(ctx)).accessToken, fresh);
    assert.equal(m.isDead(hashSecret(fresh)), false);
  });

  it("lets the dead mark lapse after DEAD_MARK_MS, so a 401 then drives one more refresh", async () => {
    const clock = new ManualClock();
    const server = fakeServer(clock, 3_600_000);
    const store = createMemoryStore({ clock });
    const ctx = context(server.requester);
    const m = manager(clock, false, store);
    const dead = (await m.access(ctx)).accessToken!;
    await m.markDead(ctx, dead);
    assert.equal(await m.invalidate(ctx, dead), hashSecret(dead));
    assert.equal((await m.access(ctx)).accessToken, dead, "while marked, a 401 drops nothing");
    clock.advance(DEAD_MARK_MS + 1);
    assert.equal(m.isDead(hashSecret(dead)), false);
    const other = manager(clock, false, store);
    await other.invalidate(ctx, dead);
    assert.equal((await other.access(ctx)).accessToken, "access-2");
    assert.equal(server.log.length, 2);
  });

  it("with cache: none asks for a new token every time", async () => {
    const clock = new ManualClock();
    const server = fakeServer(clock);
    const m = manager(clock);
    const ctx = context(server.requester, { cache: "none" });
    await m.access(ctx);
    await m.access(ctx);
    assert.equal(server.log.length, 2);
  });

  it("with cache: process keeps the access token out of the store", async () => {
    const clock = new ManualClock();
    const server = fakeServer(clock);
    const store = createMemoryStore({ clock });
    const m = manager(clock, true, store);
    const ctx = context(server.requester, { cache: "process", grant: "password" });
    const state = await m.access(ctx);
    assert.equal(state.accessToken, "access-1");
    const stored = (await store.get<TokenState>("state:test"))!.value;
    assert.equal(stored.accessToken, undefined);
    assert.equal(stored.refreshToken, "refresh-1");
    assert.equal((await m.access(ctx)).accessToken, "access-1");
    assert.equal(server.log.length, 1);
  });

  it("rejects a caller whose signal aborts, sends nothing for one aborted before, and lets the others' request finish", async () => {
    const clock = new ManualClock();
    const server = fakeServer(clock);
    const m = manager(clock);
    const ctx = context(server.requester);
    const before = AbortSignal.abort();
    await assert.rejects(m.access(ctx, { forceRefresh: true, signal: before }), { name: "AbortError" });
    assert.equal(server.log.length, 0, "no token request for a caller that had already given up");
    const leaving = new AbortController();
    const left = m.access(ctx, { signal: leaving.signal });
    const staying = m.access(ctx);
    leaving.abort();
    await assert.rejects(left, { name: "AbortError" });
    assert.equal((await staying).accessToken, "access-1");
    assert.equal(server.log.length, 1);
  });

  it("lets a caller that shares the flight of an aborted one wait out another holder's lease and get the token", async () => {
    // The real clock: the lease wait must really be under way when the first caller leaves.
    const clock = systemClock;
    const server = fakeServer(clock);
    const store = createMemoryStore({ clock });
    let release!: () => void;
    const held = store.update("state:test", () => new Promise<undefined>((resolve) => (release = () => resolve(undefined))), { mode: "wait", holder: "another process" });
    await delay(10);
    const m = manager(clock, false, store);
    const ctx = context(server.requester);
    const leaving = new AbortController();
    const left = m.access(ctx, { signal: leaving.signal });
    const staying = m.access(ctx);
    await delay(20);
    leaving.abort();
    await assert.rejects(left, { name: "AbortError" });
    await delay(50);
    release();
    await held;
    assert.equal((await staying).accessToken, "access-1");
  });

  it("returns a fresh token with no loop when minTtl exceeds a fresh token's lifetime", async () => {
    const clock = new ManualClock();
    const server = fakeServer(clock, 2000);
    const m = manager(clock);
    const ctx = context(server.requester);
    const state = await m.access(ctx, { minTtlMs: 10_000 });
    assert.equal(state.accessToken, "access-1");
    assert.equal(server.log.length, 1);
  });
});

describe("TokenManager rotation safety", () => {
  it("retries the write of a rotated refresh token until it lands, handing nothing out meanwhile", async () => {
    const clock = new ManualClock();
    const server = fakeServer(clock);
    const inner = createMemoryStore({ clock });
    let failWrites = 2;
    // A store whose writes fail twice after the server has answered (disk full, database down).
    const store: Store = {
      ...inner,
      update: async (key: string, fn: any, options: any): Promise<any> => {
        if (failWrites > 0) {
          failWrites--;
          await fn((await inner.get(key)) as any, { timeLeft: () => 10_000, signal: new AbortController().signal });
          throw new TokenSmithError("store_error", "disk full");
        }
        return inner.update(key, fn, options);
      },
    };
    const m = new TokenManager("state:test", { store, clock, refreshAhead: false, holder: "test" });
    const state = await m.access(context(server.requester, { grant: "password" }));
    assert.equal(state.refreshToken, "refresh-1");
    assert.equal(server.log.length, 1, "the server was asked once; its answer was kept and written later");
    assert.equal(((await inner.get("state:test"))!.value as TokenState).refreshToken, "refresh-1");
  });

  it("recovers from invalid_grant when another process rotated the refresh token (stale read)", async () => {
    const clock = new ManualClock();
    const server = fakeServer(clock);
    server.seed("seed");
    const inner = createMemoryStore({ clock });
    const ctx = context(server.requester, { grant: "refresh_token", seedRefreshToken: "seed" });
    const m = new TokenManager("state:test", { store: inner, clock, refreshAhead: false, holder: "test" });
    await m.access(ctx); // refresh-1 stored
    // Another process rotates behind our back: the server and the store now hold refresh-2.
    const other = new TokenManager("state:test", { store: inner, clock, refreshAhead: false, holder: "other" });
    clock.advance(5000);
    await other.access(ctx);
    // Our update sees a stale record (as when a lease was lost): the first refresh fails, the
    // stored token is re-read and tried once.
    const stale = (await inner.get("state:test"))!;
    const staleStore: Store = {
      ...inner,
      update: (key: string, fn: any, options: any): Promise<any> =>
        inner.update(key, (current: any, lease: any) => fn(current && { ...current, value: { ...current.value, refreshToken: "refresh-1", accessToken: undefined } }, lease), options),
    };
    const mine = new TokenManager("state:test", { store: staleStore, clock, refreshAhead: false, holder: "mine" });
    clock.advance(5000);
    const state = await mine.access(ctx, { forceRefresh: true });
    assert.equal(state.accessToken, "access-3");
    const sent = server.log.slice(-2).map((g) => (g as { refreshToken: string }).refreshToken);
    assert.deepEqual(sent, ["refresh-1", "refresh-2"]);
    assert.ok(stale.generation >= 2);
  });
  it("keeps the stored refresh token that worked after stale-read recovery when the answer has no new one", async () => {
    const clock = new ManualClock();
    const sent: Array<{ refreshToken?: string; timeoutMs: number }> = [];
    const requester: TokenRequester = {
      async request(grant, { timeoutMs }) {
        sent.push({ refreshToken: (grant as { refreshToken?: string }).refreshToken, timeoutMs });
        clock.advance(2_000); // a slow server: the lease's time left shrinks between sends
        if (grant.kind === "refresh_token" && grant.refreshToken !== "rotated-elsewhere") {
          throw new TokenSmithError("oauth_error", "invalid_grant", { error: "invalid_grant", status: 400 });
        }
        return { tokens: { accessToken: "fresh", tokenType: "Bearer", expiresInMs: 60_000, extra: {} }, sentAt: clock.now() };
      },
    };
    const inner = createMemoryStore({ clock });
    await inner.update("state:test", () => ({ v: 1, refreshToken: "rotated-elsewhere", seeds: [] }) as TokenState, { mode: "wait" });
    // This process's update sees a stale record (as after a lost lease) holding the old token.
    const leaseEnd = clock.now() + 10_000;
    const staleStore: Store = {
      ...inner,
      update: (key: string, fn: any, options: any): Promise<any> =>
        inner.update(key, (current: any) => fn({ ...current, value: { ...current.value, refreshToken: "spent" } }, { timeLeft: () => leaseEnd - clock.now(), signal: new AbortController().signal }), options),
    };
    const m = new TokenManager("state:test", { store: staleStore, clock, refreshAhead: false, holder: "test" });
    const state = await m.access(context(requester, { grant: "refresh_token", timeoutMs: 30_000 }));
    assert.equal(state.refreshToken, "rotated-elsewhere", "not the refused one");
    assert.equal(((await inner.get("state:test"))!.value as TokenState).refreshToken, "rotated-elsewhere");
    assert.deepEqual(
      sent.map((s) => s.refreshToken),
      ["spent", "rotated-elsewhere"],
    );
    assert.ok(sent[1]!.timeoutMs < sent[0]!.timeoutMs, "each request's timeout is clamped to the lease time left when it is sent");
  });
});

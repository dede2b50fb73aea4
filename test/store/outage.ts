/**
 * Outage behaviour shared by the networked stores (issue 6), run against a private server the
 * test may crash and restart: reads fail with store_error (never "no record") while it is
 * down, nothing acknowledged is lost, a write in flight lands whole or not at all, and the
 * same store handle recovers by itself when the server returns.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { demoConfig } from "../../src/demo/config.js";
import { startDemoServer } from "../../src/demo/server.js";
import type { Store, StoreRecord } from "../../src/store/types.js";
import { TokenSmith } from "../../src/tokensmith.js";
import type { PrivateServer } from "./servers.js";

export interface OutageTestOptions {
  /** Starts the private server. */
  startServer(): Promise<PrivateServer>;
  /** Opens a store on it. */
  open(url: string): Promise<Store>;
  /** The `store:` config section for it, for the library-level test. */
  storeSection(url: string): Record<string, unknown>;
}

/** A failing call against a dead server must give up this fast (bounded retries). */
const FAIL_FAST_MS = 8_000;
/** Short leases, so a lease left behind by a crash runs out quickly. */
const LEASE_MS = 1_000;
/** Long enough that calls fail rather than ride the outage out in a client's reconnect queue. */
const OUTAGE_MS = 2_000;
type Rotating = { refresh_token: string; n: number };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function timed<T>(body: () => Promise<T>): Promise<{ ms: number; result: PromiseSettledResult<T> }> {
  const started = Date.now();
  const [result] = await Promise.allSettled([body()]);
  return { ms: Date.now() - started, result };
}

function assertStoreError(outcome: { ms: number; result: PromiseSettledResult<unknown> }, what: string): void {
  assert.equal(outcome.result.status, "rejected", `${what} did not fail while the server was down`);
  assert.equal((outcome.result as PromiseRejectedResult).reason.code, "store_error", `${what}: ${String((outcome.result as PromiseRejectedResult).reason)}`);
  assert.ok(outcome.ms < FAIL_FAST_MS, `${what} took ${outcome.ms} ms to fail`);
}

export function testOutages(name: string, options: OutageTestOptions): void {
  describe(`${name} store outages`, () => {
    let server: PrivateServer;
    let store: Store;
    before(async () => {
      server = await options.startServer();
      store = await options.open(server.url);
    });
    after(async () => {
      await store?.close();
      await server?.destroy();
    });

    test("while the server is down a read fails with store_error, never 'none', and after a restart the record is there", async () => {
      const key = `outage/${randomUUID()}`;
      await store.update(key, () => ({ refresh_token: "rt-1", n: 1 }), { mode: "wait" });
      await server.stop();
      try {
        assertStoreError(await timed(() => store.get(key)), "get");
        assertStoreError(await timed(() => store.update(key, () => ({ refresh_token: "rt-2", n: 2 }), { mode: "wait", leaseMs: LEASE_MS })), "update");
      } finally {
        await server.start();
      }
      assert.deepEqual(await store.get(key), { generation: 1, value: { refresh_token: "rt-1", n: 1 } });
      const next = await store.update(key, () => ({ refresh_token: "rt-2", n: 2 }), { mode: "wait", leaseMs: LEASE_MS, deadline: Date.now() + 10_000 });
      assert.equal(next.status, "written");
    });

    test("an update in flight when the server dies leaves the old state, whole, and the next update takes over", async () => {
      const key = `outage/${randomUUID()}`;
      await store.update(key, () => ({ refresh_token: "old", n: 1 }), { mode: "wait" });
      const dying = store.update(key, async () => (await server.stop(), { refresh_token: "new", n: 2 }), { mode: "wait", leaseMs: LEASE_MS });
      await assert.rejects(dying, (err: { code?: string }) => ["store_error", "lock_timeout"].includes(err.code ?? ""));
      await server.start();
      assert.deepEqual(await store.get(key), { generation: 1, value: { refresh_token: "old", n: 1 } });
      // The dead update's lease may have survived the crash; it runs out and is taken over.
      const next = await store.update<Rotating>(key, (c) => ({ refresh_token: "newer", n: (c?.value.n ?? 0) + 1 }), {
        mode: "wait",
        leaseMs: LEASE_MS,
        deadline: Date.now() + 10_000,
      });
      assert.deepEqual(next.status === "written" && next.record, { generation: 2, value: { refresh_token: "newer", n: 2 } });
    });

    test("rotating a refresh token through a crash and restart loses no acknowledged rotation, and resumes by itself", async () => {
      const key = `outage/${randomUUID()}`;
      const rotations = 30;
      const crashAt = 10;
      let acknowledged: StoreRecord<Rotating> | undefined;
      let failures = 0;
      let restarted: Promise<void> | undefined;
      while ((acknowledged?.value.n ?? 0) < rotations) {
        if (acknowledged?.value.n === crashAt && !restarted) {
          await server.stop();
          restarted = sleep(OUTAGE_MS).then(() => server.start());
        }
        try {
          const result = await store.update<Rotating>(key, (c) => ({ refresh_token: `rt-${randomUUID()}`, n: (c?.value.n ?? 0) + 1 }), {
            mode: "wait",
            leaseMs: LEASE_MS,
            deadline: Date.now() + 10_000,
          });
          assert.equal(result.status, "written");
          if (result.status === "written") acknowledged = result.record;
        } catch (err) {
          assert.equal((err as { code?: string }).code, "store_error", String(err));
          failures++;
          await sleep(200); // the caller's backoff, outside the lease
        }
        assert.ok(failures < 100, "the store did not recover");
      }
      await restarted;
      assert.ok(failures > 0, "the crash was not noticed");
      assert.deepEqual(await store.get(key), acknowledged);
      assert.equal(acknowledged?.generation, rotations, "a rotation was lost or written twice");
    });

    test("the library keeps serving a valid token through crashes, refreshes fail with store_error, and the rotating chain survives", async (t) => {
      const auth = await startDemoServer({ quiet: true, accessTokenTtl: 60 });
      const config = demoConfig(auth, { dir: "unused" }) as { store: unknown; connections: Record<string, Record<string, unknown>> };
      config.store = options.storeSection(server.url);
      config.connections["demo-password"].timeout = 1; // a 6 s lease: a crash inside it costs little
      const ts = await TokenSmith.load({ config, env: {} });
      try {
        const user = ts.connection("demo-password");
        await user.accessToken(); // the first token, by the password grant; refresh tokens from here on

        // A crash between refreshes: the valid token is still served, a refresh fails fast.
        const valid = await user.accessToken();
        await server.stop();
        assert.equal(await user.accessToken(), valid, "a caller holding a valid token was not served during the outage");
        assertStoreError(await timed(() => user.accessToken({ forceRefresh: true })), "a refresh during the outage");
        await server.start();

        // A crash at an arbitrary moment of back-to-back refreshes, perhaps between the token
        // response and its write: the answer must be kept and written once the server is back.
        let refreshes = 0;
        let failed = 0;
        const crash = sleep(30).then(async () => {
          await server.stop();
          await sleep(OUTAGE_MS);
          await server.start();
        });
        let crashed = false;
        void crash.then(() => (crashed = true));
        while (!crashed || refreshes < 5) {
          try {
            const tokens = await Promise.all(Array.from({ length: 3 }, () => user.accessToken({ forceRefresh: true })));
            assert.equal(new Set(tokens).size, 1, "concurrent callers share one refresh");
            refreshes++;
          } catch (err) {
            assert.equal((err as { code?: string }).code, "store_error", String(err));
            failed++;
            await sleep(200);
          }
        }
        await crash;
        t.diagnostic(`${refreshes} refreshes, ${failed} failed with store_error during the crash, ${auth.stats.byGrant.refresh_token} refresh requests`);
        assert.equal(auth.stats.byOutcome.invalid_grant ?? 0, 0, "a refresh token was lost");
        assert.equal(auth.stats.refreshReuseDetected, 0, "a rotated refresh token was sent again");
        assert.equal(auth.stats.byGrant.password, 1, "the chain broke and fell back to the password grant");
        assert.equal((await user.token()).accessToken, await user.accessToken());
      } finally {
        await ts.close();
        await auth.close();
      }
    });
  });
}

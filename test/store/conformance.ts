/**
 * The one conformance suite every store driver passes (SPEC §6), in capability tiers:
 *
 * - "in-process": the contract as one process sees it (every driver, memory included).
 * - "multi-process": real child processes sharing one backend — concurrent updates, takeover
 *   of a SIGKILLed holder's lease, fencing of a SIGSTOPped holder, quarantine, cross-process
 *   reads. Children open the store from `childConfig` via `createStore`, so any driver
 *   `createStore` knows can run this tier.
 *
 * - "sealed": encrypted drivers — a record under a key the store does not hold (a lost or
 *   replaced key) is unreadable, left untouched, and replaced only by `discardUnreadable`.
 *
 * Every test uses its own random record key, so drivers may share one backend across tests.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import type { Store, StoreConfig, StoreRecord } from "../../src/store/types.js";
import { bundleChildWithModules } from "../e2e/fixtures/bundle-child.js";
import { STORE_CHILD, startChild, type ChildProcessHandle } from "./child-process.js";
import type { StoreChildArgs } from "./fixtures/store-child.js";

export type StoreTier = "in-process" | "multi-process" | "sealed";

/** Opens a fresh handle on the driver's backend; `onWarning` receives quarantine reports. */
export type MakeStore = (options?: { onWarning?: (message: string) => void }) => Promise<Store>;

export interface StoreDriverTestOptions {
  tiers: StoreTier[];
  /** multi-process: the config children pass to `createStore`; the same backend as `makeStore`. */
  childConfig?: StoreConfig;
  /** multi-process: the child script (default test/store/fixtures/store-child.ts). */
  childModule?: string;
  /** multi-process: damages the stored record of `key` so that it no longer decrypts. */
  corrupt?: (key: string) => Promise<void>;
  /** sealed: opens the same backend under another encryption key (and no old keys). */
  makeStoreWithOtherKey?: () => Promise<Store>;
}

/** Short leases keep the suite fast; long enough for a busy 2-core machine to renew in time. */
const LEASE_MS = 1_000;
const TIMEOUT_MS = 20_000;
type Counter = { count: number; by?: string };

const newKey = () => `conformance/${randomUUID()}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const increment = (current: StoreRecord<Counter> | undefined): Counter => ({ count: (current?.value.count ?? 0) + 1 });

/** A gate an updater waits on, so a test decides when a lease is released. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

async function withStore(makeStore: MakeStore, body: (store: Store) => Promise<void>, options?: Parameters<MakeStore>[0]): Promise<void> {
  const store = await makeStore(options);
  try {
    await body(store);
  } finally {
    await store.close();
  }
}

/** Registers the suite for one driver. */
export function testStoreDriver(name: string, makeStore: MakeStore, options: StoreDriverTestOptions): void {
  describe(`${name} store conformance`, () => {
    if (options.tiers.includes("in-process")) inProcessTier(makeStore);
    if (options.tiers.includes("multi-process")) multiProcessTier(makeStore, options);
    if (options.tiers.includes("sealed")) sealedTier(makeStore, options);
  });
}

function inProcessTier(makeStore: MakeStore): void {
  describe("in-process tier", () => {
    test("get returns nothing for a key that was never written", () =>
      withStore(makeStore, async (store) => {
        assert.equal(await store.get(newKey()), undefined);
      }));

    test("each write takes the next generation, starting at 1, and get returns it", () =>
      withStore(makeStore, async (store) => {
        const key = newKey();
        for (const expected of [1, 2, 3]) {
          const result = await store.update<Counter>(key, increment, { mode: "wait" });
          assert.deepEqual(result, { status: "written", record: { generation: expected, value: { count: expected } } });
          assert.deepEqual(await store.get(key), { generation: expected, value: { count: expected } });
        }
      }));

    test("values round-trip as JSON, nested and unicode included", () =>
      withStore(makeStore, async (store) => {
        const key = newKey();
        const value = { a: [1, 2.5, null, true], b: { c: "ünïcødé ✓", d: "" }, e: 2 ** 40 };
        await store.update(key, () => value, { mode: "wait" });
        assert.deepEqual((await store.get(key))?.value, value);
      }));

    test("an updater returning undefined writes nothing and reports unchanged", () =>
      withStore(makeStore, async (store) => {
        const key = newKey();
        await store.update<Counter>(key, increment, { mode: "wait" });
        const result = await store.update<Counter>(key, () => undefined, { mode: "wait" });
        assert.deepEqual(result, { status: "unchanged", record: { generation: 1, value: { count: 1 } } });
        assert.equal((await store.get(key))?.generation, 1);
      }));

    test("a try-mode update returns busy, naming the holder, while another update holds the lease", () =>
      withStore(makeStore, async (store) => {
        const key = newKey();
        const release = gate();
        const held = gate();
        const first = store.update<Counter>(key, async (current) => (held.open(), await release.opened, increment(current)), {
          mode: "wait",
          leaseMs: LEASE_MS,
          holder: "first updater",
        });
        await held.opened;
        const second = await store.update<Counter>(key, increment, { mode: "try", leaseMs: LEASE_MS });
        assert.deepEqual(second, { status: "busy", holder: "first updater" });
        release.open();
        assert.equal((await first).status, "written");
        assert.equal((await store.update<Counter>(key, increment, { mode: "try" })).status, "written");
      }));

    test("updates of different keys do not wait for each other", () =>
      withStore(makeStore, async (store) => {
        const release = gate();
        const held = gate();
        const first = store.update(newKey(), async () => (held.open(), await release.opened, { x: 1 }), { mode: "wait", leaseMs: LEASE_MS });
        await held.opened;
        assert.equal((await store.update(newKey(), () => ({ y: 1 }), { mode: "try" })).status, "written");
        release.open();
        await first;
      }));

    test("concurrent wait-mode updates take turns, so N increments end at exactly N", () =>
      withStore(makeStore, async (store) => {
        const key = newKey();
        const n = 8;
        let inside = 0;
        const results = await Promise.all(
          Array.from({ length: n }, () =>
            store.update<Counter>(
              key,
              async (current) => {
                assert.equal(++inside, 1, "two updaters ran at once");
                await sleep(5);
                inside--;
                return increment(current);
              },
              { mode: "wait", leaseMs: LEASE_MS, deadline: Date.now() + TIMEOUT_MS },
            ),
          ),
        );
        assert.ok(results.every((r) => r.status === "written"));
        assert.deepEqual(await store.get(key), { generation: n, value: { count: n } });
      }));

    test("a waiter gives up with lock_timeout at its deadline", () =>
      withStore(makeStore, async (store) => {
        const key = newKey();
        const release = gate();
        const held = gate();
        const first = store.update(key, async () => (held.open(), await release.opened, { x: 1 }), { mode: "wait", leaseMs: LEASE_MS });
        await held.opened;
        await assert.rejects(store.update(key, () => ({ x: 2 }), { mode: "wait", leaseMs: LEASE_MS, deadline: Date.now() + 150 }), { code: "lock_timeout" });
        release.open();
        await first;
        assert.deepEqual((await store.get(key))?.value, { x: 1 });
      }));

    test("the lease reports a positive time left, at most the lease length", () =>
      withStore(makeStore, async (store) => {
        let left = -1;
        await store.update(newKey(), (_current, lease) => void (left = lease.timeLeft()), { mode: "wait", leaseMs: LEASE_MS });
        assert.ok(left > 0 && left <= LEASE_MS, `timeLeft() was ${left}`);
      }));

    test("an updater that throws releases the lease and writes nothing", () =>
      withStore(makeStore, async (store) => {
        const key = newKey();
        await store.update<Counter>(key, increment, { mode: "wait" });
        await assert.rejects(
          store.update(key, () => {
            throw new Error("boom");
          }, { mode: "wait", leaseMs: LEASE_MS }),
          /boom/,
        );
        assert.equal((await store.get(key))?.generation, 1);
        assert.equal((await store.update<Counter>(key, increment, { mode: "try" })).status, "written");
      }));

    test("close() lets an update in flight write first, and refuses a call made after it before it reaches the store", async () => {
      const store = await makeStore();
      const key = newKey();
      const release = gate();
      const held = gate();
      const first = store.update<Counter>(key, async (current) => (held.open(), await release.opened, increment(current)), { mode: "wait", leaseMs: LEASE_MS * 10 });
      await held.opened;
      let closed = false;
      const closing = store.close().then(() => (closed = true));
      await sleep(50);
      assert.equal(closed, false, "close() waits for the update in flight");
      let called = false;
      const refused = (err: unknown) => (err as { code?: string }).code === "store_error" && /after the store was closed/.test((err as Error).message);
      await assert.rejects(store.update<Counter>(key, (current) => ((called = true), increment(current)), { mode: "wait", deadline: Date.now() + 2_000 }), refused);
      await assert.rejects(store.get(key), refused);
      assert.equal(called, false, "a call made after close() never ran");
      release.open();
      const written = await first;
      assert.equal(written.status, "written");
      assert.equal(written.status === "written" && written.record.generation, 1);
      await closing;
    });

    test("a subscriber is woken when the record changes", () =>
      withStore(makeStore, async (store) => {
        const key = newKey();
        const woken = gate();
        const unsubscribe = store.subscribe?.(key, woken.open);
        if (!unsubscribe) return; // optional in the contract
        try {
          await store.update(key, () => ({ x: 1 }), { mode: "wait" });
          await Promise.race([woken.opened, sleep(5_000).then(() => assert.fail("no wake-up within 5 s"))]);
        } finally {
          unsubscribe();
        }
      }));

    test("a tombstone keeps its generation, and the next write continues from it", () =>
      withStore(makeStore, async (store) => {
        const key = newKey();
        await store.update(key, () => ({ access_token: "a" }), { mode: "wait" });
        const tombstone = { tombstone: { reason: "logout", at: 1_700_000_000 } };
        await store.update(key, () => tombstone, { mode: "wait" });
        assert.deepEqual(await store.get(key), { generation: 2, value: tombstone });
        let seen: StoreRecord | undefined;
        const result = await store.update(key, (current) => ((seen = current), { access_token: "b" }), { mode: "wait" });
        assert.deepEqual(seen, { generation: 2, value: tombstone });
        assert.equal(result.status === "written" && result.record.generation, 3);
      }));
  });
}

function multiProcessTier(makeStore: MakeStore, options: StoreDriverTestOptions): void {
  describe("multi-process tier", () => {
    const children: ChildProcessHandle[] = [];
    // The child bundled once (it then starts in a fraction of tsx's time: a dozen children per driver).
    let bundled: { path: string; dir: string } | undefined;
    before(async () => {
      bundled = await bundleChildWithModules(options.childModule ?? STORE_CHILD);
    });
    after(() => bundled && rm(bundled.dir, { recursive: true, force: true }));
    const child = (args: Omit<StoreChildArgs, "config">) => {
      assert.ok(options.childConfig, "the multi-process tier needs childConfig");
      const handle = startChild(bundled!.path, { ...args, config: options.childConfig }, []);
      children.push(handle);
      return handle;
    };
    const cleanUp = async () => {
      await Promise.all(children.splice(0).map((c) => c.kill()));
    };

    test("four processes incrementing one counter at once end exactly right", async () => {
      try {
        const key = newKey();
        const procs = Array.from({ length: 4 }, () => child({ command: "increment", key, times: 3, workMs: 10, leaseMs: LEASE_MS }));
        const done = await Promise.all(procs.map((p) => p.next("done")));
        const spans = done.flatMap((d) => d.spans as Array<[number, number]>).sort((a, b) => a[0] - b[0]);
        for (let i = 1; i < spans.length; i++) assert.ok(spans[i][0] >= spans[i - 1][1], "two processes held the lease at once");
        await withStore(makeStore, async (store) => assert.deepEqual(await store.get(key), { generation: 12, value: { count: 12 } }));
      } finally {
        await cleanUp();
      }
    });

    test("a record written by one process is read by another, tombstones included", async () => {
      try {
        const key = newKey();
        const tombstone = { tombstone: { reason: "moved" } };
        await withStore(makeStore, (store) => store.update(key, () => tombstone, { mode: "wait" }).then(() => {}));
        const event = await child({ command: "get", key }).next("record");
        assert.deepEqual(event.record, { generation: 1, value: tombstone });
      } finally {
        await cleanUp();
      }
    });

    test("the lease of a holder killed mid-update is taken over at once on its host (its pid is gone), and the record is intact", async () => {
      try {
        const key = newKey();
        // A lease far longer than the takers' deadline: waiting it out would fail them with lock_timeout.
        const longLeaseMs = 60_000;
        await withStore(makeStore, async (store) => {
          await store.update<Counter>(key, increment, { mode: "wait" });
          const holder = child({ command: "hold", key, leaseMs: longLeaseMs, holder: "doomed child" });
          const holding = await holder.next("holding");
          assert.deepEqual(await store.update(key, increment, { mode: "try" }), { status: "busy", holder: "doomed child" });
          await holder.kill("SIGKILL");
          const takers = Array.from({ length: 3 }, () => child({ command: "increment", key, workMs: 50, leaseMs: LEASE_MS, deadlineMs: 20_000 }));
          const spans = (await Promise.all(takers.map((t) => t.next("done")))).flatMap((d) => d.spans as Array<[number, number]>);
          spans.sort((a, b) => a[0] - b[0]);
          assert.ok(spans[0][0] < (holding.until as number), "the dead holder's lease was waited out");
          for (let i = 1; i < spans.length; i++) assert.ok(spans[i][0] >= spans[i - 1][1], "two processes took over the lease at once");
          assert.deepEqual(await store.get(key), { generation: 4, value: { count: 4 } });
        });
      } finally {
        await cleanUp();
      }
    });

    test("a holder whose lease ran out cannot overwrite the generation written meanwhile", async () => {
      try {
        const key = newKey();
        await withStore(makeStore, async (store) => {
          await store.update<Counter>(key, increment, { mode: "wait" });
          const stale = child({ command: "hold", key, leaseMs: LEASE_MS });
          assert.equal((await stale.next("holding")).generation, 1);
          stale.signal("SIGSTOP");
          const newer = await store.update<Counter>(key, (c) => ({ count: (c?.value.count ?? 0) + 10, by: "parent" }), {
            mode: "wait",
            leaseMs: LEASE_MS,
            deadline: Date.now() + TIMEOUT_MS,
          });
          assert.equal(newer.status === "written" && newer.record.generation, 2);
          stale.signal("SIGCONT");
          stale.send("go");
          const outcome = await stale.next("error", "result");
          assert.equal(outcome.event, "error", `the stale holder's write was accepted: ${JSON.stringify(outcome)}`);
          assert.ok(["lock_timeout", "store_error"].includes(outcome.code as string), `unexpected code ${String(outcome.code)}`);
          assert.deepEqual(await store.get(key), { generation: 2, value: { count: 11, by: "parent" } });
          assert.equal((await store.update<Counter>(key, increment, { mode: "try" })).status, "written");
        });
      } finally {
        await cleanUp();
      }
    });

    test("a corrupted record is quarantined, reported, and then read as no record", async () => {
      assert.ok(options.corrupt, "the multi-process tier needs a corrupt(key) hook");
      const warnings: string[] = [];
      const key = newKey();
      await withStore(
        makeStore,
        async (store) => {
          await store.update<Counter>(key, increment, { mode: "wait" });
          await store.update<Counter>(key, increment, { mode: "wait" });
          await options.corrupt!(key);
          assert.equal(await store.get(key), undefined);
          assert.equal(warnings.length, 1, `expected one warning, got ${JSON.stringify(warnings)}`);
          assert.match(warnings[0], /quarantin|moved/i);
          let seen: StoreRecord<Counter> | undefined = { generation: -1, value: { count: -1 } };
          const result = await store.update<Counter>(key, (current) => ((seen = current), increment(current)), { mode: "wait" });
          assert.equal(seen, undefined);
          assert.ok(result.status === "written" && result.record.generation > 2, "the generation must keep growing past the quarantined one");
          assert.deepEqual((await store.get(key))?.value, { count: 1 });
        },
        { onWarning: (message) => warnings.push(message) },
      );
    });
  });
}

function sealedTier(makeStore: MakeStore, options: StoreDriverTestOptions): void {
  describe("sealed tier", () => {
    test("a record under a key the store does not hold is unreadable and untouched, until an update discards it", async () => {
      assert.ok(options.makeStoreWithOtherKey, "the sealed tier needs makeStoreWithOtherKey");
      const key = newKey();
      await withStore(makeStore, async (store) => {
        await store.update<Counter>(key, increment, { mode: "wait" });
        await store.update<Counter>(key, increment, { mode: "wait" });
      });
      const other = await options.makeStoreWithOtherKey();
      try {
        const unreadable = (err: Error & { code?: string }) => err.name === "UnreadableRecordError" && err.code === "store_error" && /unknown key/.test(err.message);
        await assert.rejects(other.get(key), unreadable);
        await assert.rejects(other.update<Counter>(key, increment, { mode: "wait" }), unreadable);
        await withStore(makeStore, async (store) => assert.deepEqual(await store.get(key), { generation: 2, value: { count: 2 } }));
        let seen: StoreRecord<Counter> | undefined = { generation: -1, value: { count: -1 } };
        const result = await other.update<Counter>(key, (current) => ((seen = current), { count: 100 }), { mode: "wait", discardUnreadable: true });
        assert.equal(seen, undefined);
        assert.deepEqual(result, { status: "written", record: { generation: 3, value: { count: 100 } } });
        assert.deepEqual(await other.get(key), { generation: 3, value: { count: 100 } });
      } finally {
        await other.close();
      }
    });
  });
}

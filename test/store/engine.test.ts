import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import type { LeaseBackend, RawRecord } from "../../src/store/backend.js";
import { createStoreFromBackend } from "../../src/store/engine.js";
import { testStoreDriver } from "./conformance.js";

/**
 * The lease engine every driver runs through, against an in-memory backend whose failures a
 * test scripts: lost answers, refused renewals, outages. The real drivers run the same
 * paths against real servers in postgres.test.ts and redis.test.ts.
 */

interface Row extends RawRecord {
  lease?: { owner: string; holder: string; expiresAt: number };
}

const connectionLost = () => Object.assign(new Error("connection reset"), { code: "ECONNRESET" });

function fakeBackend() {
  const rows = new Map<string, Row>();
  const listeners = new Map<string, Set<() => void>>();
  const calls: string[] = [];
  /** Per operation: a failure to throw on its next call, before or after it takes effect. */
  const faults: Record<string, { when: "before" | "after"; error: Error } | undefined> = {};
  const row = (key: string) => rows.get(key) ?? rows.set(key, { generation: 0, data: null }).get(key)!;
  const live = (r: Row) => r.lease && r.lease.expiresAt > Date.now();
  const notify = (key: string) => [...(listeners.get(key) ?? [])].forEach((l) => l());
  async function op<R>(name: string, body: () => R): Promise<R> {
    calls.push(name);
    const fault = faults[name];
    faults[name] = undefined;
    if (fault?.when === "before") throw fault.error;
    const result = body();
    if (fault?.when === "after") throw fault.error;
    return result;
  }
  const backend: LeaseBackend = {
    kind: "postgres",
    where: "fake:5432/db",
    read: (key) => op("read", () => (rows.has(key) ? { generation: row(key).generation, data: row(key).data } : undefined)),
    acquire: (key, ticket, leaseMs) =>
      op("acquire", () => {
        const r = row(key);
        if (live(r) && r.lease!.owner !== ticket.owner) return { acquired: false as const, holder: r.lease!.holder, expiresInMs: r.lease!.expiresAt - Date.now() };
        r.lease = { ...ticket, expiresAt: Date.now() + leaseMs };
        return { acquired: true as const, record: { generation: r.generation, data: r.data } };
      }),
    renew: (key, ticket, leaseMs) =>
      op("renew", () => {
        const r = row(key);
        if (!live(r) || r.lease!.owner !== ticket.owner) return false;
        r.lease!.expiresAt = Date.now() + leaseMs;
        return true;
      }),
    write: (key, ticket, generation, data) =>
      op("write", () => {
        const r = row(key);
        if (!live(r) || r.lease!.owner !== ticket.owner || r.generation !== generation - 1) return false;
        Object.assign(r, { generation, data, lease: undefined });
        notify(key);
        return true;
      }),
    release: (key, ticket) =>
      op("release", () => {
        const r = row(key);
        if (r.lease?.owner === ticket.owner) r.lease = undefined;
        notify(key);
      }),
    quarantine: (key, record) =>
      op("quarantine", () => {
        const r = row(key);
        if (r.generation !== record.generation || r.data !== record.data) return undefined;
        r.data = null;
        return "the fake quarantine";
      }),
    watch(key, onChange) {
      const set = listeners.get(key) ?? listeners.set(key, new Set()).get(key)!;
      set.add(onChange);
      return () => void set.delete(onChange);
    },
    isTransient: (err) => (err as { code?: string }).code === "ECONNRESET",
    reason: (err) => String((err as { code?: string }).code ?? err),
    close: async () => {},
  };
  return { backend, rows, calls, faults };
}

const key = randomBytes(32);
const storeOn = (backend: LeaseBackend) => createStoreFromBackend(backend, { key, onWarning: () => {} });

const shared = fakeBackend();
testStoreDriver("engine (fake backend)", async () => storeOn(shared.backend), { tiers: ["in-process"] });

describe("the lease engine", () => {
  test("a write that landed but whose answer was lost counts as written", async () => {
    const fake = fakeBackend();
    const store = storeOn(fake.backend);
    fake.faults.write = { when: "after", error: connectionLost() };
    const result = await store.update("k", () => ({ v: 1 }), { mode: "wait" });
    assert.deepEqual(result, { status: "written", record: { generation: 1, value: { v: 1 } } });
    assert.deepEqual(await store.get("k"), { generation: 1, value: { v: 1 } });
    assert.equal(fake.calls.filter((c) => c === "write").length, 2);
  });

  test("a write that cannot reach the server keeps the lease and is retried under it until the server is back", async () => {
    const fake = fakeBackend();
    const store = storeOn(fake.backend);
    const write = fake.backend.write;
    let down = true;
    setTimeout(() => (down = false), 1_000); // longer than the bounded retries of one operation
    fake.backend.write = async (...args) => {
      if (down) throw connectionLost();
      return write(...args);
    };
    let taken: string | undefined;
    const result = await store.update("k", async () => {
      // Meanwhile another update waits for the lease: it must not get it before our write lands.
      void store.update("k", (current) => ((taken = `after generation ${current?.generation}`), undefined), { mode: "wait" });
      return { v: 1 };
    }, { mode: "wait", leaseMs: 2_000 });
    assert.deepEqual(result, { status: "written", record: { generation: 1, value: { v: 1 } } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(taken, "after generation 1");
  });

  test("a write that cannot reach the server gives up with store_error once the lease has run out", async () => {
    const fake = fakeBackend();
    const store = storeOn(fake.backend);
    fake.backend.write = async () => {
      throw connectionLost();
    };
    fake.backend.renew = async () => {
      throw connectionLost();
    };
    const started = Date.now();
    await assert.rejects(store.update("k", () => ({ v: 1 }), { mode: "wait", leaseMs: 1_000 }), { code: "store_error" });
    assert.ok(Date.now() - started < 1_500, "it kept trying after the lease ran out");
  });

  test("a transient failure is retried a bounded number of times, then is a store_error naming the server", async () => {
    const fake = fakeBackend();
    const store = storeOn(fake.backend);
    fake.backend.read = async () => {
      fake.calls.push("read");
      throw connectionLost();
    };
    await assert.rejects(store.get("k"), (err: Error & { code: string; hint?: string }) => {
      assert.equal(err.code, "store_error");
      assert.match(err.message, /could not read the record "k" at fake:5432\/db \(ECONNRESET\)/);
      assert.match(err.hint ?? "", /valid token keep working/);
      return true;
    });
    assert.equal(fake.calls.length, 3);
  });

  test("a failure that is not transient is not retried", async () => {
    const fake = fakeBackend();
    const store = storeOn(fake.backend);
    fake.faults.read = { when: "before", error: new Error("permission denied for table tokensmith_states") };
    await assert.rejects(store.get("k"), { code: "store_error", message: /permission denied/ });
    assert.deepEqual(fake.calls, ["read"]);
  });

  test("a write after another generation landed is a store_error, and after the lease moved on a lock_timeout", async () => {
    const fake = fakeBackend();
    const store = storeOn(fake.backend);
    const behindOurBack = (change: (row: Row) => void) => () => {
      change(fake.rows.get("k")!);
      return { v: 1 };
    };
    await assert.rejects(store.update("k", behindOurBack((row) => (row.generation = 5)), { mode: "wait" }), {
      code: "store_error",
      message: /generation 5 was written meanwhile/,
    });
    await assert.rejects(store.update("k", behindOurBack((row) => (row.lease!.owner = "someone else")), { mode: "wait" }), { code: "lock_timeout" });
  });

  test("a renewal that fails for a network reason keeps the lease; one the server refuses aborts it at once", async () => {
    const fake = fakeBackend();
    const store = storeOn(fake.backend);
    await store.update("k", async (_current, lease) => {
      fake.faults.renew = { when: "before", error: connectionLost() };
      await new Promise((resolve) => setTimeout(resolve, 150));
      assert.equal(lease.signal.aborted, false);
      assert.ok(lease.timeLeft() > 0);
      fake.rows.get("k")!.lease!.owner = "a taker";
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(lease.signal.aborted, true);
      assert.equal(lease.timeLeft(), 0);
      return undefined;
    }, { mode: "wait", leaseMs: 300 });
  });
});

import assert from "node:assert/strict";
import { test } from "node:test";
import type { Clock } from "../../src/clock.js";
import { createMemoryStore } from "../../src/store/memory.js";
import { testStoreDriver } from "./conformance.js";

testStoreDriver("memory", async () => createMemoryStore(), { tiers: ["in-process"] });

test("a waiter waits on the injected clock: a clock that moves time in idle reaches a one-minute deadline without real waiting", async () => {
  let time = Date.UTC(2026, 0, 1);
  let idles = 0;
  const clock: Clock = {
    now: () => time,
    sleep: async (ms) => void (time += ms),
    idle: async (ms) => {
      idles++;
      time += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
  const store = createMemoryStore({ clock });
  let release!: () => void;
  let holding!: () => void;
  const held = new Promise<void>((resolve) => (holding = resolve));
  const first = store.update("k", () => (holding(), new Promise<{ v: number }>((resolve) => (release = () => resolve({ v: 1 })))), { mode: "wait", holder: "first", leaseMs: 600_000 });
  await held;
  const waiter = store.update("k", () => ({ v: 2 }), { mode: "wait", deadline: time + 60_000 });
  const realLimit = new Promise((_, reject) => setTimeout(() => reject(new Error("the waiter waited in real time")), 5_000).unref());
  await assert.rejects(Promise.race([waiter, realLimit]), { code: "lock_timeout", message: /held by first/ });
  assert.ok(idles > 0);
  release();
  assert.equal((await first).status, "written");
  await store.close();
});

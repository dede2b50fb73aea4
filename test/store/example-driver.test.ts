import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { createMapStore, newMapStorage } from "../../docs/examples/map-store.js";
import { testStoreDriver } from "./conformance.js";

/**
 * The example driver of docs/store-drivers.md, written only against the package's public
 * `tokensmith/store` export (the built dist/, as an installed package resolves it), passes the
 * same conformance suite as the built-in drivers: a custom driver needs nothing internal.
 */

test("the example driver imports the engine through the package's public path", () => {
  assert.match(fileURLToPath(import.meta.resolve("tokensmith/store")), /[/\\]dist[/\\]store[/\\]public\.js$/);
});

const storage = newMapStorage();
const key = randomBytes(32);
testStoreDriver("example (docs/examples/map-store.ts)", async (options) => createMapStore(storage, { key, onWarning: options?.onWarning ?? (() => {}) }), {
  tiers: ["in-process", "sealed"],
  makeStoreWithOtherKey: async () => createMapStore(storage, { key: randomBytes(32) }),
});

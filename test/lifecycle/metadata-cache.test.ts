import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { systemClock } from "../../src/clock.js";
import { storeMetadataCache } from "../../src/lifecycle/metadata-cache.js";
import type { DiscoveryCacheEntry } from "../../src/providers/discovery.js";
import { createFileStore } from "../../src/store/file.js";
import { using } from "../store/helpers.js";

const dir = mkdtempSync(join(tmpdir(), "tokensmith-metadata-cache-"));
after(() => rm(dir, { recursive: true, force: true }));

describe("discovery cache in the store", () => {
  test("an entry sealed under a key the store no longer has is a miss, and the next fetch replaces it (§2.15)", async () => {
    const entry = (issuer: string): DiscoveryCacheEntry => ({ metadata: { issuer }, expiresAt: 2 });
    await using(createFileStore({ dir, key: randomBytes(32) }), (store) => storeMetadataCache(store, systemClock).set("https://id.example", entry("old")));
    await using(createFileStore({ dir, key: randomBytes(32) }), async (store) => {
      const cache = storeMetadataCache(store, systemClock);
      assert.equal(await cache.get("https://id.example"), undefined);
      await cache.set("https://id.example", entry("new"));
      assert.deepEqual(await cache.get("https://id.example"), entry("new"));
    });
  });
});

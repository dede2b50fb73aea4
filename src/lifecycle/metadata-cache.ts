import type { Clock } from "../clock.js";
import type { DiscoveryCache, DiscoveryCacheEntry } from "../providers/discovery.js";
import type { Store } from "../store/types.js";

/** Budget for waiting on another writer of the same metadata: not worth more than this. */
const METADATA_WRITE_WAIT_MS = 2_000;

/** The discovery cache (§2.12) lives in the store, so every process shares one fetch per day. */
export function storeMetadataCache(store: Store, clock: Clock): DiscoveryCache {
  return {
    async get(key) {
      const record = await store.get<DiscoveryCacheEntry>(`meta:${key}`);
      return record?.value;
    },
    async set(key, value) {
      // `try`: if another process is writing the same document, theirs will do.
      await store.update<DiscoveryCacheEntry>(`meta:${key}`, () => value, {
        mode: "try",
        deadline: clock.now() + METADATA_WRITE_WAIT_MS,
      });
    },
  };
}

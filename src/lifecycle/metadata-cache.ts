import type { Clock } from "../clock.js";
import type { DiscoveryCache, DiscoveryCacheEntry } from "../providers/discovery.js";
import { UnreadableRecordError } from "../store/sealed.js";
import type { Store } from "../store/types.js";

/** Budget for waiting on another writer of the same metadata: not worth more than this. */
const METADATA_WRITE_WAIT_MS = 2_000;

/**
 * The discovery cache (§2.12) lives in the store, so every process shares one fetch per day.
 * It holds public metadata only: an entry sealed under a key the store no longer has (§2.15)
 * is a miss, and the next fetch replaces it.
 */
export function storeMetadataCache(store: Store, clock: Clock): DiscoveryCache {
  return {
    async get(key) {
      try {
        return (await store.get<DiscoveryCacheEntry>(`meta:${key}`))?.value;
      } catch (err) {
        if (err instanceof UnreadableRecordError) return undefined;
        throw err;
      }
    },
    async set(key, value) {
      // `try`: if another process is writing the same document, theirs will do.
      await store.update<DiscoveryCacheEntry>(`meta:${key}`, () => value, {
        mode: "try",
        discardUnreadable: true,
        deadline: clock.now() + METADATA_WRITE_WAIT_MS,
      });
    },
  };
}

import type { Clock } from "../clock.js";
import type { Store } from "../store/types.js";

/** A cached discovery document (§2.12) and when it stops being fresh. */
export interface CachedMetadata {
  metadata: Record<string, unknown>;
  expiresAt: number;
}

/** The discovery cache lives in the store, so every process shares one fetch per day. */
export interface MetadataCache {
  get(key: string): Promise<CachedMetadata | undefined>;
  set(key: string, value: CachedMetadata): Promise<void>;
}

/** Budget for waiting on another writer of the same metadata: not worth more than this. */
const METADATA_WRITE_WAIT_MS = 2_000;

export function storeMetadataCache(store: Store, clock: Clock): MetadataCache {
  return {
    async get(key) {
      const record = await store.get<CachedMetadata>(`meta:${key}`);
      return record?.value;
    },
    async set(key, value) {
      // `try`: if another process is writing the same document, theirs will do.
      await store.update<CachedMetadata>(`meta:${key}`, () => value, {
        mode: "try",
        deadline: clock.now() + METADATA_WRITE_WAIT_MS,
      });
    },
  };
}

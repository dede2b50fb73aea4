import type { Store, UpdateOptions, Updater, UpdateResult } from "../index.js";

/**
 * A store wrapper that tells the gateway's metrics what only the store can see: how long
 * callers waited for a record's lease, how often a refresh-ahead found it busy, and which
 * writes carried a freshly obtained token. It changes nothing about what the store does.
 */

/** What the wrapper reports. */
export interface StoreObserver {
  /** A lease was obtained after waiting `waitedMs` since `update` was called. */
  leaseTaken(waitedMs: number): void;
  /** A `try`-mode update found the lease held by someone else. */
  leaseBusy(): void;
  /** A write under `key` stored a state whose `lastRefreshAt` moved: a new token was obtained. */
  refreshed(key: string): void;
}

function lastRefreshAt(value: unknown): unknown {
  return value && typeof value === "object" ? (value as { lastRefreshAt?: unknown }).lastRefreshAt : undefined;
}

/** `store`, reporting lease waits and refresh writes to `observer`. */
export function observeStore(store: Store, observer: StoreObserver, now: () => number = Date.now): Store {
  return {
    kind: store.kind,
    get: (key) => store.get(key),
    subscribe: store.subscribe ? (key, onChange) => store.subscribe!(key, onChange) : undefined,
    close: () => store.close(),
    async update<T>(key: string, fn: Updater<T>, options: UpdateOptions): Promise<UpdateResult<T>> {
      const started = now();
      let before: unknown;
      let taken = false;
      const result = await store.update<T>(
        key,
        (current, lease) => {
          if (!taken) observer.leaseTaken(now() - started);
          taken = true;
          before = lastRefreshAt(current?.value);
          return fn(current, lease);
        },
        options,
      );
      if (result.status === "busy") observer.leaseBusy();
      if (result.status === "written") {
        const after = lastRefreshAt(result.record.value);
        if (after !== undefined && after !== before) observer.refreshed(key);
      }
      return result;
    },
  };
}

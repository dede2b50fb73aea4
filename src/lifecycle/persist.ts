import type { Clock } from "../clock.js";
import { TokenSmithError } from "../errors.js";
import type { Store, StoreRecord } from "../store/types.js";

/** How long to keep retrying the write of an answer the server already gave (§2.4). */
export const PERSIST_BUDGET_MS = 60_000;
const PERSIST_BASE_DELAY_MS = 100;
const PERSIST_MAX_DELAY_MS = 5_000;

/**
 * Rotation safety (§2.4): the server answered with a new (possibly rotated) refresh token but
 * the store write failed. Retry the write, fenced on the generation we read, until it lands or
 * the generation has moved on (someone else wrote a newer state). Nothing is handed out
 * meanwhile: the caller awaits this.
 */
export async function persistFenced<T>(
  store: Store,
  key: string,
  baseGeneration: number,
  value: T,
  clock: Clock,
): Promise<StoreRecord<T> | undefined> {
  const started = clock.now();
  let delay = PERSIST_BASE_DELAY_MS;
  let lastError: unknown;
  while (clock.now() - started < PERSIST_BUDGET_MS) {
    try {
      const result = await store.update<T>(
        key,
        (current) => ((current?.generation ?? 0) === baseGeneration ? value : undefined),
        { mode: "wait", deadline: clock.now() + PERSIST_MAX_DELAY_MS * 2 },
      );
      if (result.status === "written") return result.record;
      if (result.status === "unchanged") return result.record;
    } catch (err) {
      lastError = err;
    }
    await clock.sleep(delay);
    delay = Math.min(PERSIST_MAX_DELAY_MS, delay * 2);
  }
  throw new TokenSmithError("store_error", "could not save the new token state: the store kept failing", {
    hint: "check that the token store is reachable and writable; the server's answer was not handed out",
    cause: lastError,
  });
}

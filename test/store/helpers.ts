import type { Store } from "../../src/store/types.js";

/** Helpers the driver tests (file, postgres, redis) share. */

/** Runs `body` with the store, then closes the store whatever happened. */
export async function using(store: Store | Promise<Store>, body: (store: Store) => Promise<void>): Promise<void> {
  const s = await store;
  try {
    await body(s);
  } finally {
    await s.close();
  }
}

/** A sealed record with one character in the middle of its ciphertext flipped, so it no longer authenticates. */
export function flipCiphertext(sealed: string): string {
  const parts = sealed.split(".");
  const body = parts[3];
  const mid = Math.floor(body.length / 2);
  parts[3] = body.slice(0, mid) + (body[mid] === "A" ? "B" : "A") + body.slice(mid + 1);
  return parts.join(".");
}

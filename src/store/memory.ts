import { randomUUID } from "node:crypto";
import { TokenSmithError } from "../errors.js";
import { systemClock, type Clock } from "../clock.js";
import { DEFAULT_LEASE_MS, type Lease, type Store, type StoreRecord, type UpdateOptions, type UpdateResult, type Updater } from "./types.js";

export interface MemoryStoreOptions {
  clock?: Clock;
}

interface Slot {
  record?: StoreRecord;
  lease?: { owner: string; holder?: string; expiresAt: number };
  waiters: Set<() => void>;
}

/**
 * One process, no persistence: for tests, and for `store: {type: memory}` in a long-running
 * service that needs no sharing. Same contract as every driver: leases, fencing, wake-ups.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): Store {
  const clock = options.clock ?? systemClock;
  const slots = new Map<string, Slot>();
  const slot = (key: string): Slot => {
    let s = slots.get(key);
    if (!s) slots.set(key, (s = { waiters: new Set() }));
    return s;
  };
  const wake = (s: Slot) => {
    for (const w of [...s.waiters]) w();
  };

  async function acquire(s: Slot, opts: UpdateOptions, owner: string): Promise<boolean> {
    const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
    for (;;) {
      const now = clock.now();
      if (!s.lease || s.lease.expiresAt <= now) {
        s.lease = { owner, holder: opts.holder, expiresAt: now + leaseMs };
        return true;
      }
      if (opts.mode === "try") return false;
      if (opts.signal?.aborted) throw opts.signal.reason;
      const deadline = opts.deadline ?? Infinity;
      if (now >= deadline) {
        throw new TokenSmithError("lock_timeout", "timed out waiting for another update of the same token state", {
          hint: "another caller holds the refresh lock; it is released when its token request ends",
        });
      }
      // Wake on release, or poll for an expired lease / the deadline.
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          s.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(50, Math.max(1, deadline - now)));
        s.waiters.add(done);
      });
    }
  }

  return {
    kind: "memory",
    async get<T>(key: string) {
      return slots.get(key)?.record as StoreRecord<T> | undefined;
    },
    async update<T>(key: string, fn: Updater<T>, opts: UpdateOptions): Promise<UpdateResult<T>> {
      const s = slot(key);
      const owner = randomUUID();
      if (!(await acquire(s, opts, owner))) return { status: "busy", holder: s.lease?.holder };
      const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
      const lost = new AbortController();
      const renew = setInterval(() => {
        if (s.lease?.owner === owner) s.lease.expiresAt = clock.now() + leaseMs;
        else lost.abort(new TokenSmithError("lock_timeout", "the update lease was lost"));
      }, Math.max(10, leaseMs / 3));
      renew.unref?.();
      const lease: Lease = {
        timeLeft: () => (s.lease?.owner === owner ? Math.max(0, s.lease.expiresAt - clock.now()) : 0),
        signal: lost.signal,
      };
      try {
        const current = s.record as StoreRecord<T> | undefined;
        const next = await fn(current, lease);
        if (next === undefined) return { status: "unchanged", record: current };
        // Fence: only the lease owner may write, and only on top of the generation it read.
        if (s.lease?.owner !== owner || (s.record?.generation ?? 0) !== (current?.generation ?? 0)) {
          throw new TokenSmithError("store_error", "write rejected: the record changed while the lease was not held");
        }
        const record: StoreRecord<T> = { generation: (current?.generation ?? 0) + 1, value: structuredClone(next) };
        s.record = record;
        return { status: "written", record };
      } finally {
        clearInterval(renew);
        if (s.lease?.owner === owner) s.lease = undefined;
        wake(s);
      }
    },
    subscribe(key, onChange) {
      const s = slot(key);
      s.waiters.add(onChange);
      return () => s.waiters.delete(onChange);
    },
    async close() {
      for (const s of slots.values()) wake(s);
    },
  };
}

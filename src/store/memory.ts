import { systemClock, type Clock } from "../clock.js";
import type { LeaseBackend, RawRecord } from "./backend.js";
import { createStoreFromBackend } from "./engine.js";
import type { Store } from "./types.js";

export interface MemoryStoreOptions {
  clock?: Clock;
}

interface Row {
  generation: number;
  data: string | null;
  lease?: { owner: string; holder: string; expiresAt: number };
  watchers: Set<() => void>;
}

/**
 * One process, no persistence: for tests, and for `store: {type: memory}` in a long-running
 * service that needs no sharing. The smallest backend: rows in a Map, each step synchronous
 * and so atomic; the engine does the rest (leases, fencing, wake-ups).
 */
export function memoryBackend(clock: Clock = systemClock): LeaseBackend {
  const rows = new Map<string, Row>();
  const row = (key: string): Row => {
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { generation: 0, data: null, watchers: new Set() }));
    return r;
  };
  const raw = (r: Row): RawRecord => ({ generation: r.generation, data: r.data });
  const holds = (r: Row, owner: string) => r.lease?.owner === owner && r.lease.expiresAt > clock.now();
  const notify = (r: Row) => [...r.watchers].forEach((w) => w());

  return {
    kind: "memory",
    where: "this process",
    pollMs: 50,
    async read(key) {
      const r = rows.get(key);
      return r && r.generation > 0 ? raw(r) : undefined;
    },
    async acquire(key, ticket, leaseMs, deadOwner) {
      const r = row(key);
      const lease = r.lease;
      if (lease && lease.expiresAt > clock.now() && lease.owner !== ticket.owner && lease.owner !== deadOwner) {
        return { acquired: false, holder: lease.holder, owner: lease.owner, expiresInMs: lease.expiresAt - clock.now() };
      }
      r.lease = { ...ticket, expiresAt: clock.now() + leaseMs };
      return { acquired: true, record: raw(r) };
    },
    async renew(key, ticket, leaseMs) {
      const r = row(key);
      if (!holds(r, ticket.owner)) return false;
      r.lease!.expiresAt = clock.now() + leaseMs;
      return true;
    },
    async write(key, ticket, generation, data) {
      const r = row(key);
      if (!holds(r, ticket.owner) || r.generation !== generation - 1) return false;
      Object.assign(r, { generation, data, lease: undefined });
      notify(r);
      return true;
    },
    async release(key, ticket) {
      const r = row(key);
      if (r.lease?.owner === ticket.owner) r.lease = undefined;
      notify(r);
    },
    async quarantine(key, record) {
      const r = row(key);
      if (r.generation !== record.generation || r.data !== record.data) return undefined;
      r.data = null;
      return "nowhere (a memory store keeps no copies)";
    },
    watch(key, onChange) {
      const r = row(key);
      r.watchers.add(onChange);
      return () => r.watchers.delete(onChange);
    },
    async close() {
      for (const r of rows.values()) notify(r);
    },
  };
}

export function createMemoryStore(options: MemoryStoreOptions = {}): Store {
  const clock = options.clock ?? systemClock;
  return createStoreFromBackend(memoryBackend(clock), { clock });
}

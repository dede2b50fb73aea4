/**
 * A complete store driver written only against the public `tokensmith/store` export
 * (docs/store-drivers.md): rows in a `Map`, shared by every store opened on the same map, so
 * one process. Each backend method is one synchronous, hence atomic, step; the engine does
 * the rest. test/store/example-driver.test.ts runs the conformance suite against it.
 */
import { createStoreFromBackend, type Clock, type LeaseBackend, type LeaseTicket, type RawRecord, type Store } from "tokensmith/store";

interface Row {
  generation: number;
  data: string | null;
  lease?: LeaseTicket & { expiresAt: number };
}

/** Where a map store keeps its rows and its watchers; share one between stores to share records. */
export interface MapStorage {
  rows: Map<string, Row>;
  watchers: Map<string, Set<() => void>>;
}

export const newMapStorage = (): MapStorage => ({ rows: new Map(), watchers: new Map() });

export function mapBackend(storage: MapStorage, now: () => number = Date.now): LeaseBackend {
  const row = (key: string) => storage.rows.get(key) ?? storage.rows.set(key, { generation: 0, data: null }).get(key)!;
  const snapshot = (r: Row): RawRecord => ({ generation: r.generation, data: r.data });
  const holds = (r: Row, ticket: LeaseTicket) => r.lease?.owner === ticket.owner && r.lease.expiresAt > now();
  const notify = (key: string) => storage.watchers.get(key)?.forEach((wake) => wake());

  return {
    kind: "map",
    where: "a Map in this process",
    async read(key) {
      const r = storage.rows.get(key);
      return r && r.generation > 0 ? snapshot(r) : undefined;
    },
    async acquire(key, ticket, leaseMs, deadOwner) {
      const r = row(key);
      const lease = r.lease;
      if (lease && lease.expiresAt > now() && lease.owner !== ticket.owner && lease.owner !== deadOwner) {
        return { acquired: false, holder: lease.holder, owner: lease.owner, expiresInMs: lease.expiresAt - now() };
      }
      r.lease = { ...ticket, expiresAt: now() + leaseMs };
      return { acquired: true, record: snapshot(r) };
    },
    async renew(key, ticket, leaseMs) {
      const r = row(key);
      if (!holds(r, ticket)) return false;
      r.lease!.expiresAt = now() + leaseMs;
      return true;
    },
    async write(key, ticket, generation, data) {
      const r = row(key);
      if (!holds(r, ticket) || r.generation !== generation - 1) return false;
      Object.assign(r, { generation, data, lease: undefined });
      notify(key);
      return true;
    },
    async release(key, ticket) {
      const r = row(key);
      if (r.lease?.owner === ticket.owner) r.lease = undefined;
      notify(key);
    },
    async quarantine(key, record) {
      const r = row(key);
      if (r.generation !== record.generation || r.data !== record.data) return undefined;
      r.data = null; // a real driver keeps the data somewhere for inspection, and says where
      return "nowhere (the example keeps no copies)";
    },
    watch(key, onChange) {
      const set = storage.watchers.get(key) ?? storage.watchers.set(key, new Set()).get(key)!;
      set.add(onChange);
      return () => void set.delete(onChange);
    },
  };
}

/** A store on `storage`, its records sealed with `key` (32 bytes). */
export function createMapStore(storage: MapStorage, options: { key: Buffer; clock?: Clock; onWarning?: (message: string) => void }): Store {
  return createStoreFromBackend(mapBackend(storage, options.clock ? () => options.clock!.now() : Date.now), options);
}

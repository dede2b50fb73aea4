/**
 * `tokensmith/store`: the lease engine, for custom store drivers (docs/store-drivers.md). A
 * driver supplies a `LeaseBackend` of single atomic steps; `createStoreFromBackend` turns it
 * into a `Store` that waits, renews, fences, retries, takes over from dead holders,
 * quarantines corrupt records and encrypts, exactly as the built-in drivers do.
 */
export { createStoreFromBackend, type EngineOptions } from "./engine.js";
export { recordTag, type AcquireResult, type LeaseBackend, type LeaseTicket, type RawRecord } from "./backend.js";
export { memoryBackend } from "./memory.js";
export { DEFAULT_LEASE_MS, type Lease, type Store, type StoreRecord, type UpdateOptions, type UpdateResult, type Updater } from "./types.js";
export type { Clock, IdleOptions } from "../clock.js";

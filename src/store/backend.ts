import { createHash } from "node:crypto";

/**
 * The backend contract (SPEC §6, docs/store-drivers.md): what a store driver supplies. Each
 * method is one atomic step on the driver's storage; the engine (engine.ts) turns a backend
 * into a `Store` and owns everything else: waiting, deadlines, renewal, fencing, retries,
 * dead-holder takeover, quarantine and encryption. Public as `tokensmith/store`.
 */

/** A record as the backend holds it. `data` is opaque text (sealed); null when never written or quarantined. */
export interface RawRecord {
  generation: number;
  data: string | null;
  /** Where this record lives, for messages (a file path); default the backend's `where`. */
  where?: string;
}

/** Who takes a lease: `owner` is unique per update (the fence), `holder` is shown to others. */
export interface LeaseTicket {
  owner: string;
  holder: string;
}

/**
 * A busy result names the holder for people, and the holding ticket's `owner` (a waiter on the
 * same host takes over at once from an owner whose process is gone, SPEC §2.17).
 */
export type AcquireResult = { acquired: true; record: RawRecord } | { acquired: false; holder?: string; owner?: string; expiresInMs?: number };

/** One atomic operation per method; the driver's whole contribution. */
export interface LeaseBackend {
  /** Driver name, shown in messages and as `Store.kind`. */
  readonly kind: string;
  /** Names the storage in messages (a folder, host:port/database); never credentials. */
  readonly where: string;
  /** Waiters re-check at least this often when no wake-up comes. Default 250 ms. */
  readonly pollMs?: number;
  /** The current record, or undefined. */
  read(key: string): Promise<RawRecord | undefined>;
  /**
   * Takes the lease for `leaseMs` if it is free, expired, or already this ticket's (a retried
   * call), and returns the record. With `deadOwner`, also takes it from exactly that owner.
   */
  acquire(key: string, ticket: LeaseTicket, leaseMs: number, deadOwner?: string): Promise<AcquireResult>;
  /** Extends the lease if this ticket still holds it; false when it does not. */
  renew(key: string, ticket: LeaseTicket, leaseMs: number): Promise<boolean>;
  /**
   * The fenced write: stores `data` as `generation` and releases the lease, only if the ticket
   * holds an unexpired lease and the record is at `generation - 1`. False when refused.
   */
  write(key: string, ticket: LeaseTicket, generation: number, data: string): Promise<boolean>;
  /** Releases the lease if this ticket holds it (compare-and-delete). */
  release(key: string, ticket: LeaseTicket): Promise<void>;
  /**
   * Moves this exact generation's data aside, keeping the generation taken (the record reads as
   * none); returns where it went, or undefined if the record changed meanwhile.
   */
  quarantine(key: string, record: RawRecord & { data: string }, reason: string): Promise<string | undefined>;
  /** Calls `onChange` when the record may have changed; returns the stop function. Optional: waiters poll. */
  watch?(key: string, onChange: () => void): () => void;
  /** Failures worth retrying (connection lost, server restarting). Default: none. */
  isTransient?(err: unknown): boolean;
  /** A short reason for a failure, for messages (an errno code, the server's words). */
  reason?(err: unknown): string;
  /** What to check after a failure, for its hint. Default: that the storage is reachable. */
  hint?(transient: boolean): string;
  close?(): Promise<void>;
}

/** A short, fixed-length id of a record key, for file names, channels and key names (keys can be long and contain anything). */
export function recordTag(key: string): string {
  return createHash("sha256").update("tokensmith record\0").update(key).digest("hex").slice(0, 32);
}

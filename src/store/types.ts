/**
 * The store contract (SPEC §6). Stores know nothing of OAuth: a record is a generation number
 * and an opaque JSON value. Every driver (memory, file, postgres, redis) is a backend under the
 * one lease engine (engine.ts), and passes the one conformance suite in test/store/conformance.ts.
 */

/** A stored record. `generation` starts at 1 and grows by one with every write. */
export interface StoreRecord<T = unknown> {
  generation: number;
  value: T;
}

export interface UpdateOptions {
  /** `wait` queues for the lease; `try` returns `{status: "busy"}` at once when it is held. */
  mode: "wait" | "try";
  /** Epoch ms after which a `wait` gives up with a `lock_timeout` error. */
  deadline?: number;
  /**
   * How long the lease lasts before another process may take it over, in ms. It is renewed
   * while `fn` runs, so it only matters when the holder dies. Must exceed the longest request
   * `fn` makes plus a margin (SPEC §2.5). Default: DEFAULT_LEASE_MS.
   */
  leaseMs?: number;
  /** Who holds the lease, shown to others (e.g. "login in progress (1234@host)"). */
  holder?: string;
  signal?: AbortSignal;
  /**
   * A current record that cannot be opened with the store's keys (an unknown key id, a newer
   * format; SPEC §2.15) is passed to `fn` as none instead of failing the update, so what `fn`
   * writes (a tombstone) replaces it; the generation keeps growing. Only for giving it up on
   * purpose (`logout --discard-unreadable`).
   */
  discardUnreadable?: boolean;
}

/** What `fn` sees while it holds the lease. */
export interface Lease {
  /** Milliseconds until the lease runs out unless renewed; a request's timeout is clamped to it. */
  timeLeft(): number;
  /** Aborted if the lease is lost (renewal failed or another holder took over). */
  readonly signal: AbortSignal;
}

/**
 * Runs under the lease with the freshly re-read current record. Returning `undefined` writes
 * nothing; returning a value writes it as generation `current.generation + 1` (fenced: the
 * write fails if anyone else wrote in between).
 */
export type Updater<T = unknown> = (current: StoreRecord<T> | undefined, lease: Lease) => Promise<T | undefined> | T | undefined;

export type UpdateResult<T = unknown> =
  | { status: "written"; record: StoreRecord<T> }
  | { status: "unchanged"; record: StoreRecord<T> | undefined }
  | { status: "busy"; holder?: string };

export interface Store {
  /** Driver name: "memory" | "file" | "postgres" | "redis". */
  readonly kind: string;
  /** The current record, or undefined. A read failure throws `store_error`, never "none". */
  get<T = unknown>(key: string): Promise<StoreRecord<T> | undefined>;
  /** Take the key's lease, re-read, run `fn`, write its result fenced by generation. */
  update<T = unknown>(key: string, fn: Updater<T>, options: UpdateOptions): Promise<UpdateResult<T>>;
  /** Calls `onChange` when the record may have changed (waiters wake instead of polling). */
  subscribe?(key: string, onChange: () => void): () => void;
  /** Waits for in-flight writes, releases leases and connections. */
  close(): Promise<void>;
}

/** Default lease: the default token request timeout (30 s) plus a margin for the write. */
export const DEFAULT_LEASE_MS = 45_000;

/** The `store:` section of the config (SPEC §1), references already resolved. */
export interface StoreConfig {
  /** A driver of the registry (src/store/registry.ts): memory, file, postgres, redis. */
  type: string;
  /** file: folder for records, key file and leases. Default $XDG_STATE_HOME/tokensmith. */
  dir?: string;
  /** postgres / redis connection URL. */
  url?: string;
  /** postgres schema (default public); the table is `tokensmith_states`. */
  schema?: string;
  /** redis key prefix (default "tokensmith:"). */
  prefix?: string;
  /** redis: the URLs of some nodes of a Redis Cluster (`redis://host:port`), instead of `url`. */
  cluster?: string[];
  /** Encryption key, 32 bytes base64. file: default a generated key file; postgres/redis: required. */
  key?: string;
  /** Earlier keys, still accepted for reading (key rotation). */
  oldKeys?: string[];
}

import { createHash } from "node:crypto";
import { TokenSmithError } from "../errors.js";
import { excerpt, redact, registerSecret } from "../redact.js";
import { systemClock, type Clock } from "../clock.js";
import { CorruptRecordError, UnreadableRecordError, createSealer, inContext } from "./sealed.js";
import { holderIsGone, newOwner } from "./holder.js";
import { holdLease, type HeldLease } from "./leased-hold.js";
import { createInFlight } from "./in-flight.js";
import { createWakeups } from "./wakeups.js";
import { DEFAULT_LEASE_MS, type Store, type StoreRecord, type UpdateOptions, type UpdateResult, type Updater } from "./types.js";

/**
 * The networked stores (postgres, redis) share everything but their statements: a lease on
 * the server's clock taken and renewed by owner id, a generation-fenced write that also
 * releases the lease, wake-ups with a polling fallback, quarantine, bounded retries. Each
 * driver supplies a `LeaseBackend` of single atomic operations; this module turns it into a
 * `Store`. No operation holds anything open across `fn` (the token request): the lease is a
 * row or a key with an expiry, not a transaction or a connection.
 */

/** A record as the server holds it. `data` is the sealed text; null when never written or quarantined. */
export interface RawRecord {
  generation: number;
  data: string | null;
}

/** Who takes a lease: `owner` is unique per update (the fence), `holder` is shown to others. */
export interface LeaseTicket {
  owner: string;
  holder: string;
}

/** A busy result names the holder for people and the holding ticket's `owner` (for dead-holder takeover, §2.17). */
export type AcquireResult = { acquired: true; record: RawRecord } | { acquired: false; holder?: string; owner?: string; expiresInMs?: number };

/** Wake-ups from the server: a record (by `recordTag`) may have changed, or anything may have. */
export interface WatchListener {
  onChange(tag: string): void;
  /** The notification channel (re)connected: changes made meanwhile were missed. */
  onReset(): void;
}

/** One atomic server-side operation per method; the driver's whole contribution. */
export interface LeaseBackend {
  readonly kind: "postgres" | "redis";
  /** Names the server in messages: host, port, database; never credentials. */
  readonly where: string;
  read(key: string): Promise<RawRecord | undefined>;
  /**
   * Takes the lease if it is free, expired, or already this ticket's (a retried call); returns
   * the record. With `deadOwner`, also takes it from exactly that owner (a holder found dead).
   */
  acquire(key: string, ticket: LeaseTicket, leaseMs: number, deadOwner?: string): Promise<AcquireResult>;
  /** Extends the lease if this ticket still holds it; false when it does not. */
  renew(key: string, ticket: LeaseTicket, leaseMs: number): Promise<boolean>;
  /** Writes `generation` and releases the lease, only if the ticket holds it and the record is at `generation - 1`. */
  write(key: string, ticket: LeaseTicket, generation: number, data: string): Promise<boolean>;
  /** Releases the lease if this ticket holds it (compare-and-delete). */
  release(key: string, ticket: LeaseTicket): Promise<void>;
  /** Moves this exact generation's data aside, keeping the generation; where it went, or undefined if it changed. */
  quarantine(key: string, record: RawRecord & { data: string }, reason: string): Promise<string | undefined>;
  /** Starts change notifications; reconnects by itself; returns the stop function. */
  watch(listener: WatchListener): () => Promise<void>;
  /** Failures worth retrying: connection refused or lost, server restarting, timeouts. */
  isTransient(err: unknown): boolean;
  /** A short reason for a failure, for messages (an errno code, or the client's words). */
  reason(err: unknown): string;
  close(): Promise<void>;
}

export interface LeasedStoreOptions {
  key: Buffer;
  oldKeys?: Buffer[];
  clock?: Clock;
  onWarning?: (message: string) => void;
}

/** Tries per operation before an outage becomes `store_error`: rides out a blip, not an outage. */
const STORE_ATTEMPTS = 3;
/** First pause between tries, doubled each time (100, 200 ms). */
const RETRY_BASE_MS = 100;
/** Waiters re-check at least this often: the polling fallback when a notification is missed. */
const WAIT_POLL_MS = 250;
/** Re-reads of a record that keeps changing while being quarantined, before giving up. */
const MAX_READ_ATTEMPTS = 5;
/** Pause between tries of a write that could not reach the server, while the lease is still ours. */
const WRITE_RETRY_MS = 250;

/** The id in notifications and Redis key names: record keys can be long and contain anything. */
export function recordTag(key: string): string {
  return createHash("sha256").update("tokensmith record\0").update(key).digest("hex").slice(0, 32);
}

/** `host:port/database` of a connection URL for messages; its password is registered for redaction. */
export function describeServer(url: string): string {
  try {
    const u = new URL(url);
    registerSecret(decodeURIComponent(u.password));
    const host = u.hostname || u.searchParams.get("host") || "localhost";
    return `${host}${u.port ? `:${u.port}` : ""}${u.pathname.length > 1 ? u.pathname : ""}`;
  } catch {
    return "the configured server";
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Builds a `Store` from a backend; the sealer encrypts every record (SPEC §2.15). */
export function createLeasedStore(backend: LeaseBackend, options: LeasedStoreOptions): Store {
  const clock = options.clock ?? systemClock;
  const warn = options.onWarning ?? ((message: string) => process.emitWarning(message, "TokenSmithWarning"));
  const sealer = createSealer({ key: options.key, oldKeys: options.oldKeys });
  const wakeups = createWakeups(backend);
  const { track, settled } = createInFlight();
  let closing: Promise<void> | undefined;
  const label = `${backend.kind} store`;

  /** Runs one backend operation, retrying transient failures a bounded number of times. */
  async function call<R>(action: string, key: string, op: () => Promise<R>): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await op();
      } catch (err) {
        if (err instanceof TokenSmithError) throw err;
        if (attempt >= STORE_ATTEMPTS || !backend.isTransient(err)) {
          const reason = excerpt(redact(backend.reason(err)));
          throw new TokenSmithError("store_error", `${label}: could not ${action} the record "${key}" at ${backend.where} (${reason})`, {
            hint: backend.isTransient(err)
              ? `check that ${backend.kind} at ${backend.where} is up; callers holding a valid token keep working meanwhile`
              : `check store.url (user, password, database) and what that user may do at ${backend.where}`,
            cause: err,
          });
        }
        await sleep(RETRY_BASE_MS * 2 ** (attempt - 1));
      }
    }
  }

  /** Opens a raw record; a corrupt one is quarantined and reads as none (its generation stays taken). */
  async function open<T>(key: string, raw: RawRecord | undefined, discardUnreadable = false): Promise<{ generation: number; record?: StoreRecord<T> } | "changed"> {
    if (!raw || raw.data === null) return { generation: raw?.generation ?? 0 };
    try {
      return { generation: raw.generation, record: { generation: raw.generation, value: sealer.open<T>(key, raw.generation, raw.data) } };
    } catch (err) {
      if (discardUnreadable && err instanceof UnreadableRecordError) return { generation: raw.generation };
      if (!(err instanceof CorruptRecordError)) throw inContext(err as TokenSmithError, `${label}: the record "${key}" at ${backend.where}: `);
      const reason = err.message.replace(/^stored record is corrupt: /, "");
      const where = await call("quarantine", key, () => backend.quarantine(key, { generation: raw.generation, data: raw.data! }, reason));
      if (where === undefined) return "changed";
      warn(`${label}: the record "${key}" (generation ${raw.generation}) is unreadable: ${reason}. It was moved to ${where}; continuing as if no token were stored`);
      return { generation: raw.generation };
    }
  }

  async function get<T>(key: string): Promise<StoreRecord<T> | undefined> {
    for (let attempt = 0; attempt < MAX_READ_ATTEMPTS; attempt++) {
      const opened = await open<T>(key, await call("read", key, () => backend.read(key)));
      if (opened !== "changed") return opened.record;
    }
    throw new TokenSmithError("store_error", `${label}: the record "${key}" kept changing while being read`);
  }

  /**
   * Takes the lease: at once or busy (`try`), or waiting for a wake-up or a poll until the
   * deadline. A lease whose holder is a process of this host that is gone is taken over at
   * once (§2.17), in either mode: only from that exact owner, so one waiter wins.
   */
  async function acquire(key: string, ticket: LeaseTicket, leaseMs: number, opts: UpdateOptions) {
    const deadline = opts.deadline ?? Infinity;
    let deadOwner: string | undefined;
    for (;;) {
      const sentAt = clock.now();
      const result = await call("take the lease of", key, () => backend.acquire(key, ticket, leaseMs, deadOwner));
      if (!result.acquired && result.owner !== deadOwner && holderIsGone(result.owner)) {
        deadOwner = result.owner;
        continue;
      }
      deadOwner = undefined;
      if (result.acquired || opts.mode === "try") return { ...result, sentAt };
      if (opts.signal?.aborted) throw opts.signal.reason;
      const now = clock.now();
      if (now >= deadline) {
        throw new TokenSmithError("lock_timeout", `timed out waiting for another update of the same token state${result.holder ? ` (held by ${result.holder})` : ""}`, {
          hint: "another caller holds the refresh lock; it is released when its token request ends",
        });
      }
      const pause = Math.max(1, Math.min(WAIT_POLL_MS, deadline - now, (result.expiresInMs ?? WAIT_POLL_MS) + 1));
      await wakeups.wait(recordTag(key), pause, opts.signal);
    }
  }

  /** The fenced write; a rejection is explained, and a write that landed before its answer was lost counts. */
  async function writeFenced(key: string, ticket: LeaseTicket, generation: number, data: string): Promise<void> {
    if (await call("write", key, () => backend.write(key, ticket, generation, data))) return;
    const now = await call("read", key, () => backend.read(key));
    if (now?.generation === generation && now.data === data) return; // our earlier try landed
    if ((now?.generation ?? 0) !== generation - 1) {
      throw new TokenSmithError("store_error", `${label}: write of "${key}" rejected: generation ${now?.generation ?? 0} was written meanwhile (the record changed while the lease was not held)`);
    }
    throw new TokenSmithError("lock_timeout", `${label}: write of "${key}" rejected: the update lease was lost before the write`);
  }

  /**
   * The fenced write, retried for as long as the lease is ours when the server cannot be
   * reached (§2.4). `fn` may have spent something that cannot be spent twice, a refresh token
   * the server has just rotated: giving up here would let the lease run out and another
   * holder act on the old record, so the write keeps trying under this ticket, and the lease
   * keeps being renewed, until the server is back or the lease is gone.
   */
  async function writeUnderLease(key: string, ticket: LeaseTicket, generation: number, data: string, held: HeldLease): Promise<void> {
    for (;;) {
      try {
        return await writeFenced(key, ticket, generation, data);
      } catch (err) {
        const unreachable = err instanceof TokenSmithError && err.code === "store_error" && err.cause !== undefined && backend.isTransient(err.cause);
        if (!unreachable || held.lease.timeLeft() <= WRITE_RETRY_MS) throw err;
        await sleep(WRITE_RETRY_MS);
      }
    }
  }

  async function update<T>(key: string, fn: Updater<T>, opts: UpdateOptions): Promise<UpdateResult<T>> {
    const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
    const { owner, who } = newOwner();
    const ticket: LeaseTicket = { owner, holder: opts.holder ?? who };
    const taken = await acquire(key, ticket, leaseMs, opts);
    if (!taken.acquired) return { status: "busy", holder: taken.holder };
    const held: HeldLease = holdLease({ clock, leaseMs, acquiredAt: taken.sentAt, renew: () => backend.renew(key, ticket, leaseMs) });
    let released = false;
    try {
      let current = await open<T>(key, taken.record, opts.discardUnreadable);
      for (let attempt = 1; current === "changed" && attempt < MAX_READ_ATTEMPTS; attempt++) {
        current = await open<T>(key, await call("read", key, () => backend.read(key)), opts.discardUnreadable);
      }
      if (current === "changed") throw new TokenSmithError("store_error", `${label}: the record "${key}" kept changing while being read`);
      const next = await fn(current.record, held.lease);
      if (next === undefined) return { status: "unchanged", record: current.record };
      held.assertHeld();
      const generation = current.generation + 1;
      await writeUnderLease(key, ticket, generation, sealer.seal(key, generation, next), held);
      released = true;
      return { status: "written", record: { generation, value: JSON.parse(JSON.stringify(next)) as T } };
    } finally {
      held.stop();
      // One try: a lease that cannot be released (server down) just runs out.
      if (!released) await backend.release(key, ticket).catch(() => {});
    }
  }

  return {
    kind: backend.kind,
    get: <T>(key: string) => track(get<T>(key)),
    update: <T>(key: string, fn: Updater<T>, opts: UpdateOptions) => track(update(key, fn, opts)),
    subscribe: (key, onChange) => wakeups.subscribe(recordTag(key), onChange),
    close() {
      closing ??= (async () => {
        await settled();
        await wakeups.close();
        await backend.close();
      })();
      return closing;
    },
  };
}

import { TokenSmithError } from "../errors.js";
import { excerpt, redact } from "../redact.js";
import { idle, systemClock, type Clock } from "../clock.js";
import type { AcquireResult, LeaseBackend, LeaseTicket, RawRecord } from "./backend.js";
import { leaseLost, lockTimeout } from "./errors.js";
import { holdLease, type HeldLease } from "./hold.js";
import { holderIsGone, newOwner } from "./holder.js";
import { createInFlight } from "./in-flight.js";
import { CorruptRecordError, UnreadableRecordError, createSealer, inContext, plainCodec } from "./sealed.js";
import { DEFAULT_LEASE_MS, type Store, type StoreRecord, type UpdateOptions, type UpdateResult, type Updater } from "./types.js";

/**
 * The lease engine (SPEC §6): turns a `LeaseBackend` into a `Store`. Every driver runs through
 * it, so waiting (wake-ups from `watch`, else polling) and deadlines, renewal, fencing,
 * bounded retries of transient failures, dead-holder takeover (§2.17), quarantine of corrupt
 * records and encryption (§2.15) are written once. No step holds anything open across `fn`
 * (the token request): the lease is a row, a key or a file with an expiry.
 */

export interface EngineOptions {
  clock?: Clock;
  /** Non-fatal problems (a quarantined record); default `process.emitWarning`. */
  onWarning?: (message: string) => void;
  /**
   * Encryption key, 32 bytes: records are sealed (SPEC §2.15) before the backend sees them.
   * Without one they are plain JSON: only for storage that never leaves this process.
   */
  key?: Buffer;
  /** Earlier keys, still accepted for reading (key rotation). */
  oldKeys?: Buffer[];
}

/** Tries per operation before an outage becomes `store_error`: rides out a blip, not an outage. */
const STORE_ATTEMPTS = 3;
/** First pause between tries, doubled each time (100, 200 ms). */
const RETRY_BASE_MS = 100;
/** Waiters re-check at least this often when the backend does not say (`pollMs`). */
const DEFAULT_POLL_MS = 250;
/** Re-reads of a record that keeps changing while being quarantined, before giving up. */
const MAX_READ_ATTEMPTS = 5;
/** Pause between tries of a write that could not reach the backend, while the lease is still ours. */
const WRITE_RETRY_MS = 250;

type Opened<T> = { generation: number; record?: StoreRecord<T> } | "changed";

/** Builds a `Store` from a backend. */
export function createStoreFromBackend(backend: LeaseBackend, options: EngineOptions = {}): Store {
  const clock = options.clock ?? systemClock;
  const warn = options.onWarning ?? ((message: string) => process.emitWarning(message, "TokenSmithWarning"));
  const codec = options.key ? createSealer({ key: options.key, oldKeys: options.oldKeys }) : plainCodec;
  const { track, settled } = createInFlight();
  const label = `${backend.kind} store`;
  const transient = (err: unknown) => backend.isTransient?.(err) ?? false;
  let closing: Promise<void> | undefined;

  /** Runs one backend operation, retrying transient failures a bounded number of times. */
  async function call<R>(action: string, key: string, op: () => Promise<R>): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await op();
      } catch (err) {
        if (err instanceof TokenSmithError) throw err;
        if (attempt >= STORE_ATTEMPTS || !transient(err)) {
          const e = err as { code?: unknown; message?: unknown };
          const reason = excerpt(redact(backend.reason?.(err) ?? String(e?.code ?? e?.message ?? err)));
          throw new TokenSmithError("store_error", `${label}: could not ${action} the record "${key}" at ${backend.where} (${reason})`, {
            hint: backend.hint?.(transient(err)) ?? `check that the ${label} at ${backend.where} is reachable; callers holding a valid token keep working meanwhile`,
            cause: err,
          });
        }
        await clock.sleep(RETRY_BASE_MS * 2 ** (attempt - 1));
      }
    }
  }

  /** Opens a raw record; a corrupt one is quarantined and reads as none (its generation stays taken). */
  async function open<T>(key: string, raw: RawRecord | undefined, discardUnreadable = false): Promise<Opened<T>> {
    if (!raw || raw.data === null) return { generation: raw?.generation ?? 0 };
    const where = raw.where ?? backend.where;
    try {
      return { generation: raw.generation, record: { generation: raw.generation, value: codec.open<T>(key, raw.generation, raw.data) } };
    } catch (err) {
      if (discardUnreadable && err instanceof UnreadableRecordError) return { generation: raw.generation };
      if (!(err instanceof CorruptRecordError)) throw inContext(err as TokenSmithError, `${label}: the record "${key}" at ${where}: `);
      const reason = err.message.replace(/^stored record is corrupt: /, "");
      const moved = await call("quarantine", key, () => backend.quarantine(key, { generation: raw.generation, data: raw.data!, where: raw.where }, reason));
      if (moved === undefined) return "changed";
      warn(`${label}: the record "${key}" (generation ${raw.generation}) at ${where} is unreadable: ${reason}. It was moved to ${moved}; continuing as if no token were stored`);
      return { generation: raw.generation };
    }
  }

  /** Opens the record, re-reading while a concurrent quarantine changes it under us. */
  async function openCurrent<T>(key: string, first: RawRecord | undefined, discardUnreadable?: boolean) {
    let opened = await open<T>(key, first, discardUnreadable);
    for (let attempt = 1; opened === "changed" && attempt < MAX_READ_ATTEMPTS; attempt++) {
      opened = await open<T>(key, await call("read", key, () => backend.read(key)), discardUnreadable);
    }
    if (opened === "changed") throw new TokenSmithError("store_error", `${label}: the record "${key}" kept changing while being read`);
    return opened;
  }

  /**
   * Takes the lease: at once or busy (`try`), or waiting for a wake-up or a poll until the
   * deadline. A lease whose holder is a process of this host that is gone is taken over at
   * once (§2.17), in either mode: only from that exact owner, so one waiter wins.
   */
  async function acquire(key: string, ticket: LeaseTicket, leaseMs: number, opts: UpdateOptions): Promise<AcquireResult & { sentAt: number }> {
    const deadline = opts.deadline ?? Infinity;
    let deadOwner: string | undefined;
    let wake = new AbortController();
    let unwatch: (() => void) | undefined;
    const onAbort = () => wake.abort();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        // A change seen from here on ends the next pause early; one seen before was already acted on.
        if (wake.signal.aborted) wake = new AbortController();
        // Measured per try: a retry with the same ticket restarts the lease on the backend.
        let sentAt = clock.now();
        const result = await call("take the lease of", key, () => ((sentAt = clock.now()), backend.acquire(key, ticket, leaseMs, deadOwner)));
        if (!result.acquired && result.owner !== undefined && result.owner !== deadOwner && holderIsGone(result.owner)) {
          deadOwner = result.owner;
          continue;
        }
        deadOwner = undefined;
        if (result.acquired || opts.mode === "try") return { ...result, sentAt };
        if (opts.signal?.aborted) throw opts.signal.reason;
        const now = clock.now();
        if (now >= deadline) throw lockTimeout(result.holder);
        unwatch ??= backend.watch?.(key, () => wake.abort());
        const pollMs = backend.pollMs ?? DEFAULT_POLL_MS;
        const pause = Math.max(1, Math.min(pollMs, deadline - now, (result.expiresInMs ?? pollMs) + 1));
        await idle(clock, pause, { signal: wake.signal, keepAlive: true });
      }
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
      unwatch?.();
    }
  }

  /**
   * The fenced write. A refusal is explained: a write that landed before its answer was lost
   * counts; a lease that moved on is `lock_timeout`; a generation written meanwhile under our
   * lease (a backend that broke the contract, or a record changed by hand) is `store_error`.
   */
  async function writeFenced(key: string, ticket: LeaseTicket, generation: number, data: string, leaseMs: number): Promise<void> {
    if (await call("write", key, () => backend.write(key, ticket, generation, data))) return;
    const now = await call("read", key, () => backend.read(key));
    if (now?.generation === generation && now.data === data) return; // our earlier try landed
    if (!(await call("renew the lease of", key, () => backend.renew(key, ticket, leaseMs)))) {
      throw leaseLost(`another holder has it, so the ${label} refused the write of "${key}"`);
    }
    throw new TokenSmithError("store_error", `${label}: write of "${key}" rejected: generation ${now?.generation ?? 0} was written meanwhile (the record changed while the lease was not held)`);
  }

  /**
   * The fenced write, retried for as long as the lease is ours when the backend cannot be
   * reached (§2.4). `fn` may have spent something that cannot be spent twice, a refresh token
   * the server has just rotated: giving up here would let the lease run out and another
   * holder act on the old record, so the write keeps trying under this ticket, and the lease
   * keeps being renewed, until the backend is back or the lease is gone.
   */
  async function writeUnderLease(key: string, ticket: LeaseTicket, generation: number, data: string, held: HeldLease, leaseMs: number): Promise<void> {
    for (;;) {
      try {
        return await writeFenced(key, ticket, generation, data, leaseMs);
      } catch (err) {
        const unreachable = err instanceof TokenSmithError && err.code === "store_error" && err.cause !== undefined && transient(err.cause);
        if (!unreachable || held.lease.timeLeft() <= WRITE_RETRY_MS) throw err;
        await clock.sleep(WRITE_RETRY_MS);
      }
    }
  }

  async function get<T>(key: string): Promise<StoreRecord<T> | undefined> {
    return (await openCurrent<T>(key, await call("read", key, () => backend.read(key)))).record;
  }

  async function update<T>(key: string, fn: Updater<T>, opts: UpdateOptions): Promise<UpdateResult<T>> {
    const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
    const { owner, who } = newOwner();
    const ticket: LeaseTicket = { owner, holder: opts.holder ?? who };
    const taken = await acquire(key, ticket, leaseMs, opts);
    if (!taken.acquired) return { status: "busy", holder: taken.holder };
    const held = holdLease({ clock, leaseMs, acquiredAt: taken.sentAt, renew: () => backend.renew(key, ticket, leaseMs) });
    let released = false;
    try {
      const current = await openCurrent<T>(key, taken.record, opts.discardUnreadable);
      const next = await fn(current.record, held.lease);
      if (next === undefined) return { status: "unchanged", record: current.record };
      held.assertHeld();
      const generation = current.generation + 1;
      await writeUnderLease(key, ticket, generation, codec.seal(key, generation, next), held, leaseMs);
      released = true;
      return { status: "written", record: { generation, value: JSON.parse(JSON.stringify(next)) as T } };
    } finally {
      held.stop();
      // One try: a lease that cannot be released (backend down) just runs out.
      if (!released) await backend.release(key, ticket).catch(() => {});
    }
  }

  /**
   * Calls started before close() finish first; one started after it is refused before it
   * reaches the backend. Else an update could take the lease and send its token request while
   * the backend shuts, and the refresh token the server rotates could not be written anywhere.
   */
  const whileOpen = <R>(key: string, op: () => Promise<R>): Promise<R> =>
    closing ? Promise.reject(new TokenSmithError("store_error", `${label}: the record "${key}" was asked for after the store was closed`)) : track(op());

  return {
    kind: backend.kind,
    get: <T>(key: string) => whileOpen(key, () => get<T>(key)),
    update: <T>(key: string, fn: Updater<T>, opts: UpdateOptions) => whileOpen(key, () => update(key, fn, opts)),
    ...(backend.watch && { subscribe: (key: string, onChange: () => void) => backend.watch!(key, onChange) }),
    close() {
      closing ??= (async () => {
        await settled();
        await backend.close?.();
      })();
      return closing;
    },
  };
}

import { idle, type Clock } from "../clock.js";
import { leaseLost } from "./errors.js";
import type { Lease } from "./types.js";

/**
 * Keeps a lease alive while `fn` runs (SPEC §2.5), for every driver. A backend may measure the
 * lease on its own clock (the database's); here we only need a safe local estimate of when it
 * runs out: the time the request that took or renewed it was *sent* plus the lease length,
 * never later than the backend's expiry. A renewal that fails for a network reason is retried
 * on the next tick; the lease counts as lost once the estimate runs out, or at once when the
 * backend says another owner has it.
 */

/** Renewing three times per lease survives two missed renewals before anyone may take over. */
const RENEWALS_PER_LEASE = 3;
/** Floor on the renewal period, so very short test leases do not hammer the backend. */
const MIN_RENEW_MS = 50;

export interface HoldOptions {
  clock: Clock;
  leaseMs: number;
  /** When the request that took the lease was sent, on `clock`. */
  acquiredAt: number;
  /** Extends the lease; false when this owner no longer holds it. */
  renew(): Promise<boolean>;
}

/** A lease held by this process. */
export interface HeldLease {
  /** What `fn` sees: time left, and a signal aborted when the lease is lost. */
  readonly lease: Lease;
  /** Throws `lock_timeout` if the lease is lost or ran out: checked before a write. */
  assertHeld(): void;
  /** Stops renewing (the write or release that follows ends the lease). */
  stop(): void;
}

export function holdLease(options: HoldOptions): HeldLease {
  const { clock, leaseMs } = options;
  let expiresAt = options.acquiredAt + leaseMs;
  const stopped = new AbortController();
  const lost = new AbortController();
  const lose = (why: string) => {
    if (!lost.signal.aborted) lost.abort(leaseLost(why));
  };

  const renew = async () => {
    const sentAt = clock.now();
    if (sentAt >= expiresAt) return lose("it ran out before it could be renewed");
    try {
      const still = await options.renew();
      if (stopped.signal.aborted) return;
      if (still) expiresAt = sentAt + leaseMs;
      else lose("another process took it over");
    } catch {
      // Retried on the next tick; the lease is lost only once it runs out.
    }
  };
  void (async () => {
    const period = Math.max(MIN_RENEW_MS, leaseMs / RENEWALS_PER_LEASE);
    for (;;) {
      await idle(clock, period, { signal: stopped.signal, keepAlive: false });
      if (stopped.signal.aborted || lost.signal.aborted) return;
      await renew();
    }
  })();

  return {
    lease: {
      signal: lost.signal,
      timeLeft: () => (lost.signal.aborted ? 0 : Math.max(0, expiresAt - clock.now())),
    },
    assertHeld() {
      if (clock.now() >= expiresAt) lose("it ran out");
      if (lost.signal.aborted) throw lost.signal.reason;
    },
    stop() {
      stopped.abort();
    },
  };
}

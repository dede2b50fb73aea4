import { TokenSmithError } from "../errors.js";
import type { Clock } from "../clock.js";
import type { Lease } from "./types.js";

/**
 * Keeps a networked lease alive while `fn` runs (SPEC §2.5). The server measures the lease
 * on its own clock; here we only need a safe local estimate of when it runs out: the time a
 * request was *sent* plus the lease length, which is never later than the server's expiry.
 * A renewal that fails for a network reason is retried on the next tick; the lease counts as
 * lost once the estimate runs out, or at once when the server says another owner has it.
 */

/** Renewing three times per lease survives two missed renewals before anyone may take over. */
const RENEWALS_PER_LEASE = 3;
/** Floor on the renewal period, so very short test leases do not hammer the server. */
const MIN_RENEW_MS = 50;

export interface HoldOptions {
  clock: Clock;
  leaseMs: number;
  /** When the request that took the lease was sent, on `clock`. */
  acquiredAt: number;
  /** Extends the lease on the server; false when this owner no longer holds it. */
  renew(): Promise<boolean>;
}

/** A lease held by this process. */
export interface HeldLease {
  /** What `fn` sees: time left, and a signal aborted when the lease is lost. */
  readonly lease: Lease;
  /** Throws `lock_timeout` if the lease is lost or ran out: checked before a write. */
  assertHeld(): void;
  /** Stops renewing (the write or release that follows ends the lease on the server). */
  stop(): void;
}

export function holdLease(options: HoldOptions): HeldLease {
  const { clock, leaseMs } = options;
  let expiresAt = options.acquiredAt + leaseMs;
  let renewing = false;
  let stopped = false;
  const lost = new AbortController();
  const lose = (why: string) => {
    if (!lost.signal.aborted) lost.abort(new TokenSmithError("lock_timeout", `the update lease was lost: ${why}`));
  };

  const renew = async () => {
    if (renewing || stopped || lost.signal.aborted) return;
    renewing = true;
    const sentAt = clock.now();
    try {
      if (sentAt >= expiresAt) return lose("it ran out before it could be renewed");
      const still = await options.renew();
      if (stopped) return;
      if (still) expiresAt = sentAt + leaseMs;
      else lose("another process took it over");
    } catch {
      // Retried on the next tick; the lease is lost only once it runs out.
    } finally {
      renewing = false;
    }
  };
  const timer = setInterval(() => void renew(), Math.max(MIN_RENEW_MS, leaseMs / RENEWALS_PER_LEASE));
  timer.unref?.();

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
      stopped = true;
      clearInterval(timer);
    },
  };
}

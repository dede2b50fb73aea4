/**
 * Time, injectable so tests never wait for real expiry (STYLE §4). Everything in tokensmith
 * that reads the time or sleeps takes a Clock.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds, or rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Optional: a wait beside other work (see `idle`), for a test clock that moves by hand and
   * wants to control those waits too. Without it they take real time.
   */
  idle?(ms: number, options: IdleOptions): Promise<void>;
}

/** @internal */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, Math.max(0, ms));
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};

/** What a wait beside other work needs to know. */
export interface IdleOptions {
  /** Ends the wait early (it resolves, never rejects). */
  signal?: AbortSignal;
  /** Whether the wait keeps the process alive: yes for a waiter, no for a lease renewal. */
  keepAlive: boolean;
}

/**
 * A wait that runs beside other work: a lease waiter's poll between wake-ups, a lease renewal.
 * Unlike `clock.sleep` it is not the caller's own pause, so a test clock whose `sleep` moves
 * time forward must not be driven by it (a renewal loop would run that clock ahead behind the
 * test's back): it uses `clock.idle` when the clock has one, else real time. The only timer
 * of the stores lives here.
 */
export function idle(clock: Clock, ms: number, options: IdleOptions): Promise<void> {
  if (clock.idle) return clock.idle(ms, options);
  const { signal, keepAlive } = options;
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    if (!keepAlive) timer.unref?.();
    signal?.addEventListener("abort", done, { once: true });
  });
}

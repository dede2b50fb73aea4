import { abortable } from "./abortable.js";

/**
 * In-process single flight: concurrent callers of the same key share one promise. Across
 * processes the store lease does the same job; this keeps 200 callers in one process from
 * queueing 200 times on that lease.
 *
 * A caller may bring a signal: when it aborts, that caller's wait ends (with the signal's
 * reason). The shared work is told to stop (through the signal `work` gets) only once every
 * caller has left, and a caller without a signal never leaves, so one impatient caller never
 * cancels the others' refresh.
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Flight<T>>();

  run(key: string, work: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    let flight = this.inFlight.get(key);
    if (!flight) {
      const controller = new AbortController();
      const created: Flight<T> = { controller, waiting: 0, anchored: false, promise: undefined! };
      created.promise = work(controller.signal).finally(() => this.forget(key, created));
      this.inFlight.set(key, created);
      flight = created;
    }
    if (!signal) {
      flight.anchored = true;
      return flight.promise;
    }
    const joined = flight;
    joined.waiting++;
    signal.addEventListener(
      "abort",
      () => {
        joined.waiting--;
        if (joined.waiting > 0 || joined.anchored) return;
        // Nobody waits any more: stop the work, and let a later caller start afresh rather
        // than join work that is being given up.
        this.forget(key, joined);
        joined.promise.catch(() => {});
        joined.controller.abort(signal.reason);
      },
      { once: true },
    );
    return abortable(joined.promise, signal);
  }

  private forget(key: string, flight: Flight<T>): void {
    if (this.inFlight.get(key) === flight) this.inFlight.delete(key);
  }

  has(key: string): boolean {
    return this.inFlight.has(key);
  }

  /** Settles once the work in flight now has ended, however it ended. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inFlight.values()].map((flight) => flight.promise));
  }
}

interface Flight<T> {
  promise: Promise<T>;
  controller: AbortController;
  /** Callers with a signal still waiting. */
  waiting: number;
  /** A caller without a signal joined: the work always runs to its end. */
  anchored: boolean;
}

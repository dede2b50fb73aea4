import type { LeaseBackend } from "./leased.js";

/**
 * Fan-out of a networked store's change notifications (Postgres LISTEN/NOTIFY, Redis pub/sub)
 * to subscribers and to lease waiters, by record tag. The channel is opened on first need and
 * reconnects by itself; when it (re)connects everyone is woken once, since changes made while
 * it was down were missed. Waiters also poll, so a lost notification only costs a poll period.
 */
export interface Wakeups {
  /** Resolves on a change of `tag`, after `ms`, or when `signal` aborts, whichever is first. */
  wait(tag: string, ms: number, signal?: AbortSignal): Promise<void>;
  subscribe(tag: string, onChange: () => void): () => void;
  close(): Promise<void>;
}

export function createWakeups(backend: Pick<LeaseBackend, "watch">): Wakeups {
  const listeners = new Map<string, Set<() => void>>();
  let stop: (() => Promise<void>) | undefined;
  let closed = false;

  const fire = (callbacks: Iterable<() => void>) => {
    for (const cb of [...callbacks]) {
      try {
        cb();
      } catch {
        // A subscriber's failure is its own; the others still hear of the change.
      }
    }
  };
  const ensureWatching = () => {
    if (stop || closed) return;
    stop = backend.watch({
      onChange: (tag) => fire(listeners.get(tag) ?? []),
      onReset: () => fire([...listeners.values()].flatMap((set) => [...set])),
    });
  };
  const add = (tag: string, cb: () => void) => {
    let set = listeners.get(tag);
    if (!set) listeners.set(tag, (set = new Set()));
    set.add(cb);
    return () => {
      set!.delete(cb);
      if (set!.size === 0 && listeners.get(tag) === set) listeners.delete(tag);
    };
  };

  return {
    wait(tag, ms, signal) {
      ensureWatching();
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          remove();
          signal?.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        const remove = add(tag, done);
        signal?.addEventListener("abort", done, { once: true });
      });
    },
    subscribe(tag, onChange) {
      ensureWatching();
      return add(tag, onChange);
    },
    async close() {
      closed = true;
      fire([...listeners.values()].flatMap((set) => [...set]));
      await stop?.();
      stop = undefined;
    },
  };
}

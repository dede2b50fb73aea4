import { recordTag } from "./backend.js";

/**
 * A networked driver's change notifications (Postgres LISTEN/NOTIFY, Redis pub/sub): one
 * server channel carrying record tags, fanned out to per-key watchers. The channel opens on
 * first need and reconnects by itself; when it (re)connects every watcher is woken once, since
 * changes made while it was down were missed. The engine's waiters also poll, so a lost
 * notification only costs a poll period.
 */

/** What the channel reports. */
export interface ChannelListener {
  /** A record (by `recordTag`) may have changed. */
  onChange(tag: string): void;
  /** The channel (re)connected: changes made meanwhile were missed. */
  onReset(): void;
}

/** Opens the server channel; returns the stop function. */
export type OpenChannel = (listener: ChannelListener) => () => Promise<void>;

export interface ChannelWatch {
  /** `LeaseBackend.watch`: per record key. */
  watch(key: string, onChange: () => void): () => void;
  /** Wakes every watcher and closes the channel. */
  close(): Promise<void>;
}

export function createChannelWatch(open: OpenChannel): ChannelWatch {
  const listeners = new Map<string, Set<() => void>>();
  let stop: (() => Promise<void>) | undefined;
  let closed = false;

  const fire = (callbacks: Iterable<() => void>) => {
    for (const cb of [...callbacks]) {
      try {
        cb();
      } catch {
        // A watcher's failure is its own; the others still hear of the change.
      }
    }
  };
  const everyone = () => [...listeners.values()].flatMap((set) => [...set]);

  return {
    watch(key, onChange) {
      if (!stop && !closed) stop = open({ onChange: (tag) => fire(listeners.get(tag) ?? []), onReset: () => fire(everyone()) });
      const tag = recordTag(key);
      let set = listeners.get(tag);
      if (!set) listeners.set(tag, (set = new Set()));
      set.add(onChange);
      return () => {
        set!.delete(onChange);
        if (set!.size === 0 && listeners.get(tag) === set) listeners.delete(tag);
      };
    },
    async close() {
      closed = true;
      fire(everyone());
      await stop?.();
      stop = undefined;
    },
  };
}

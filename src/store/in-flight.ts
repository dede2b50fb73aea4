/** A store's pending calls, so that `close()` can let them finish before it shuts anything. */
export interface InFlight {
  /** `p`, counted as pending until it settles. */
  track<R>(p: Promise<R>): Promise<R>;
  /** Resolves once every call pending now has settled (fulfilled or rejected). */
  settled(): Promise<void>;
}

export function createInFlight(): InFlight {
  const pending = new Set<Promise<unknown>>();
  return {
    track(p) {
      pending.add(p);
      const forget = () => pending.delete(p);
      p.then(forget, forget);
      return p;
    },
    async settled() {
      await Promise.allSettled([...pending]);
    },
  };
}

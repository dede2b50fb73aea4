/**
 * Redirect targets a token must not follow, for adapters that see each redirect hop as a new,
 * unrelated request (undici: its redirect interceptor and its fetch both dispatch every hop
 * afresh). When a response redirects off its origin — or comes from a hop already off it —
 * its target is remembered here; the hop that asks for exactly that URL next goes without the
 * token, and so does every hop after it (SPEC §2.13).
 */

/** Long enough for any client to follow a redirect it has just received. */
export const REDIRECT_TARGET_TTL_MS = 30_000;
/** A bound, so a stack that never follows redirects cannot grow the set without end. */
export const MAX_REDIRECT_TARGETS = 1_000;

export class RedirectTargets {
  /** Target URL → how many hops to it are still expected, and until when. */
  private readonly targets = new Map<string, { hops: number; until: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A response to `from` redirects to `location`; `offOrigin` when `from` was itself a hop off the origin. */
  saw(from: URL, location: string, offOrigin: boolean): void {
    if (!URL.canParse(location, from)) return;
    const target = new URL(location, from);
    if (!offOrigin && target.origin === from.origin) return;
    target.hash = "";
    // Concurrent requests may be redirected to the same URL: each of their hops must go without the token.
    const hops = (this.targets.get(target.href)?.hops ?? 0) + 1;
    this.targets.delete(target.href);
    if (this.targets.size >= MAX_REDIRECT_TARGETS) this.targets.delete(this.targets.keys().next().value!);
    this.targets.set(target.href, { hops, until: this.now() + REDIRECT_TARGET_TTL_MS });
  }

  /** How many targets are remembered (0 nearly always: the hot path checks this first). */
  get size(): number {
    return this.targets.size;
  }

  /** True (once per redirect seen) when `url` is a redirect hop off the origin: it must go without the token. */
  take(url: URL): boolean {
    if (this.targets.size === 0) return false;
    const key = url.hash ? url.href.slice(0, -url.hash.length) : url.href;
    const target = this.targets.get(key);
    if (target === undefined) return false;
    if (--target.hops === 0) this.targets.delete(key);
    return target.until >= this.now();
  }
}

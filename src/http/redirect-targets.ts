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
  private readonly targets = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A response to `from` redirects to `location`; `offOrigin` when `from` was itself a hop off the origin. */
  saw(from: URL, location: string, offOrigin: boolean): void {
    if (!URL.canParse(location, from)) return;
    const target = new URL(location, from);
    if (!offOrigin && target.origin === from.origin) return;
    target.hash = "";
    if (this.targets.size >= MAX_REDIRECT_TARGETS) this.targets.delete(this.targets.keys().next().value!);
    this.targets.set(target.href, this.now() + REDIRECT_TARGET_TTL_MS);
  }

  /** How many targets are remembered (0 nearly always: the hot path checks this first). */
  get size(): number {
    return this.targets.size;
  }

  /** True (once) when `url` is a redirect hop off the origin: it must go without the token. */
  take(url: URL): boolean {
    if (this.targets.size === 0) return false;
    const key = url.hash ? url.href.slice(0, -url.hash.length) : url.href;
    const until = this.targets.get(key);
    if (until === undefined) return false;
    this.targets.delete(key);
    return until >= this.now();
  }
}

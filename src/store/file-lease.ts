import { watch, type FSWatcher } from "node:fs";
import { unlink } from "node:fs/promises";
import { join } from "node:path";
import { TokenSmithError } from "../errors.js";
import type { Clock } from "../clock.js";
import type { Lease, UpdateOptions } from "./types.js";
import { highest, linkExclusive, listFolder, prune, readPrivateFile, replaceFile, writeTemp } from "./file-io.js";
import { holderIsGone, newOwner } from "./holder.js";

/**
 * The cross-process update lease of one record (SPEC §2.5), as a numbered series of lease
 * files `lease-<epoch>` in the record's folder; the highest epoch is the lease. Taking the
 * lease — fresh, released or expired — means creating the next epoch's file with `link()`,
 * which exactly one process can do, so a dead holder's lease is taken over by exactly one
 * waiter. A holder renews and releases by rewriting its own epoch's file; once a newer epoch
 * exists those rewrites are invisible, so a stale holder can never revive its lease. A lease
 * whose holder is a process of this host that no longer exists counts as expired (§2.17).
 * See docs/decisions.md, "File store: lease and fencing".
 */

interface LeaseFile {
  owner: string;
  holder?: string;
  expiresAt: number;
  released?: boolean;
}

/** Renewing three times per lease survives two missed renewals before anyone may take over. */
const RENEWALS_PER_LEASE = 3;
/** Floor on the renewal period, so very short test leases do not spin. */
const MIN_RENEW_MS = 10;
/** Fallback poll while waiting, for file systems where `fs.watch` misses events. */
const WAIT_POLL_MS = 100;
/** Lost `link()` races in a row before reporting busy; each loss means someone else won. */
const MAX_RACES = 20;

/** A lease this process holds. */
export interface HeldLease extends Lease {
  /** Throws `lock_timeout` unless the lease is still ours and unexpired: checked before a write. */
  assertHeld(): Promise<void>;
  release(): Promise<void>;
}

export type LeaseAttempt = { held: HeldLease } | { held?: undefined; holder?: string; expiresAt: number };

export interface LeaseContext {
  folder: string;
  clock: Clock;
  leaseMs: number;
  holder?: string;
}

const leasePath = (folder: string, epoch: number) => join(folder, `lease-${epoch}`);

/** The lease file's content; "gone" when it was pruned meanwhile; unreadable content counts as expired. */
async function readLease(path: string): Promise<LeaseFile | "gone"> {
  let text: string;
  try {
    text = await readPrivateFile(path, "lease file");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as LeaseFile;
    return typeof parsed.expiresAt === "number" ? parsed : { owner: "", expiresAt: 0 };
  } catch {
    return { owner: "", expiresAt: 0 }; // a lease file torn by a power loss: treat as expired
  }
}

/** One attempt to take the lease; never waits. */
export async function tryAcquireLease(ctx: LeaseContext): Promise<LeaseAttempt> {
  const { folder, clock, leaseMs } = ctx;
  const { owner, who } = newOwner();
  const holder = ctx.holder ?? who;
  for (let race = 0; race < MAX_RACES; race++) {
    const epoch = highest((await listFolder(folder)).leases);
    if (epoch > 0) {
      const current = await readLease(leasePath(folder, epoch));
      if (current === "gone") continue;
      if (!current.released && current.expiresAt > clock.now() && !holderIsGone(current.owner)) return { holder: current.holder, expiresAt: current.expiresAt };
    }
    const next = epoch + 1;
    const expiresAt = clock.now() + leaseMs;
    const temp = await writeTemp(folder, JSON.stringify({ owner, holder, expiresAt } satisfies LeaseFile), false);
    if (!(await linkExclusive(temp, leasePath(folder, next)))) continue;
    // Our listing may have been stale: an epoch above ours means ours never counted.
    if (highest((await listFolder(folder)).leases) > next) {
      await unlink(leasePath(folder, next)).catch(() => {});
      continue;
    }
    await prune(folder, "lease", next, clock.now()).catch(() => {});
    return { held: holdLease(ctx, next, owner, holder, expiresAt) };
  }
  return { expiresAt: clock.now() };
}

function holdLease(ctx: LeaseContext, epoch: number, owner: string, holder: string, acquiredUntil: number): HeldLease {
  const { folder, clock, leaseMs } = ctx;
  const path = leasePath(folder, epoch);
  let expiresAt = acquiredUntil;
  let renewing = false;
  let released = false;
  const lost = new AbortController();
  const lose = (why: string) => {
    if (!lost.signal.aborted) lost.abort(new TokenSmithError("lock_timeout", `the update lease was lost: ${why}`));
  };
  const stillNewest = async () => highest((await listFolder(folder)).leases) === epoch;

  const renew = async () => {
    if (renewing || released || lost.signal.aborted) return;
    renewing = true;
    try {
      const now = clock.now();
      if (now >= expiresAt) return lose("it ran out before it could be renewed");
      const until = now + leaseMs;
      await replaceFile(folder, path, JSON.stringify({ owner, holder, expiresAt: until } satisfies LeaseFile), false);
      if (await stillNewest()) expiresAt = until;
      else lose("another process took it over");
    } catch {
      // A failed renewal is retried on the next tick; the lease is lost only once it runs out.
    } finally {
      renewing = false;
    }
  };
  const timer = setInterval(() => void renew(), Math.max(MIN_RENEW_MS, leaseMs / RENEWALS_PER_LEASE));
  timer.unref?.();

  return {
    signal: lost.signal,
    timeLeft: () => (lost.signal.aborted ? 0 : Math.max(0, expiresAt - clock.now())),
    async assertHeld() {
      if (!lost.signal.aborted && clock.now() >= expiresAt) lose("it ran out");
      if (!lost.signal.aborted && !(await stillNewest())) lose("another process took it over");
      if (lost.signal.aborted) throw lost.signal.reason;
    },
    async release() {
      released = true;
      clearInterval(timer);
      if (lost.signal.aborted) return;
      // Marking, never deleting: the epoch number must stay taken (see the module comment).
      await replaceFile(folder, path, JSON.stringify({ owner, holder, expiresAt: 0, released: true } satisfies LeaseFile), false).catch(() => {});
    },
  };
}

/** Takes the lease per `options`: at once or busy (`try`), or waiting until the deadline (`wait`). */
export async function acquireLease(ctx: LeaseContext, options: UpdateOptions): Promise<LeaseAttempt> {
  const deadline = options.deadline ?? Infinity;
  let watcher: FSWatcher | undefined;
  let wake: (() => void) | undefined;
  try {
    for (;;) {
      const attempt = await tryAcquireLease(ctx);
      if (attempt.held || options.mode === "try") return attempt;
      if (options.signal?.aborted) throw options.signal.reason;
      const now = ctx.clock.now();
      if (now >= deadline) {
        throw new TokenSmithError("lock_timeout", `timed out waiting for another update of the same token state${attempt.holder ? ` (held by ${attempt.holder})` : ""}`, {
          hint: "another caller holds the refresh lock; it is released when its token request ends",
        });
      }
      watcher ??= watchQuietly(ctx.folder, () => wake?.());
      const pause = Math.max(1, Math.min(WAIT_POLL_MS, deadline - now, attempt.expiresAt - now + 1));
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          options.signal?.removeEventListener("abort", done);
          wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, pause);
        options.signal?.addEventListener("abort", done, { once: true });
        wake = done;
      });
    }
  } finally {
    watcher?.close();
  }
}

/** `fs.watch` where it works; where it does not, polling alone still makes progress. */
export function watchQuietly(folder: string, onEvent: (file: string | null) => void): FSWatcher | undefined {
  try {
    const w = watch(folder, { persistent: false }, (_event, file) => onEvent(file ? String(file) : null));
    w.on("error", () => w.close());
    return w;
  } catch {
    return undefined;
  }
}

import { watch, type FSWatcher } from "node:fs";
import { unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Clock } from "../clock.js";
import type { AcquireResult, LeaseTicket } from "./backend.js";
import { highest, linkExclusive, listFolder, prune, readPrivateFile, replaceFile, writeTemp } from "./file-io.js";

/**
 * The cross-process update lease of one record (SPEC §2.5), as a numbered series of lease
 * files `lease-<epoch>` in the record's folder; the highest epoch is the lease. Taking the
 * lease — fresh, released or expired — means creating the next epoch's file with `link()`,
 * which exactly one process can do, so a dead holder's lease is taken over by exactly one
 * waiter. A holder renews and releases by rewriting its own epoch's file; once a newer epoch
 * exists those rewrites are invisible, so a stale holder can never revive its lease.
 * Expiry is on this machine's clock. See docs/decisions.md, "File store: lease and fencing".
 */

interface LeaseFile {
  owner: string;
  holder?: string;
  expiresAt: number;
  released?: boolean;
}

/** Lost `link()` races in a row before reporting busy; each loss means someone else won. */
const MAX_RACES = 20;

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

/**
 * One attempt to take the lease of the record in `folder`; never waits. Free, released,
 * expired, this ticket's own, or held by exactly `deadOwner`: the next epoch is ours.
 */
export async function takeLease(folder: string, ticket: LeaseTicket, leaseMs: number, clock: Clock, deadOwner?: string): Promise<{ epoch: number; expiresAt: number } | Extract<AcquireResult, { acquired: false }>> {
  for (let race = 0; race < MAX_RACES; race++) {
    const epoch = highest((await listFolder(folder)).leases);
    if (epoch > 0) {
      const current = await readLease(leasePath(folder, epoch));
      if (current === "gone") continue;
      const now = clock.now();
      if (!current.released && current.expiresAt > now && current.owner !== ticket.owner && current.owner !== deadOwner) {
        return { acquired: false, holder: current.holder, owner: current.owner, expiresInMs: current.expiresAt - now };
      }
    }
    const next = epoch + 1;
    const expiresAt = clock.now() + leaseMs;
    const temp = await writeTemp(folder, JSON.stringify({ owner: ticket.owner, holder: ticket.holder, expiresAt } satisfies LeaseFile), false);
    if (!(await linkExclusive(temp, leasePath(folder, next)))) continue;
    // Our listing may have been stale: an epoch above ours means ours never counted.
    if (!(await isNewest(folder, next))) {
      await unlink(leasePath(folder, next)).catch(() => {});
      continue;
    }
    await prune(folder, "lease", next, clock.now()).catch(() => {});
    return { epoch: next, expiresAt };
  }
  return { acquired: false, expiresInMs: 0 };
}

/** True while `epoch` is the newest lease of the folder: no one has taken it over. */
export async function isNewest(folder: string, epoch: number): Promise<boolean> {
  return highest((await listFolder(folder)).leases) === epoch;
}

/** Extends the lease held as `epoch` to `expiresAt`; false when another process took it over. */
export async function renewLease(folder: string, epoch: number, ticket: LeaseTicket, expiresAt: number): Promise<boolean> {
  if (!(await isNewest(folder, epoch))) return false;
  await replaceFile(folder, leasePath(folder, epoch), JSON.stringify({ owner: ticket.owner, holder: ticket.holder, expiresAt } satisfies LeaseFile), false);
  return isNewest(folder, epoch);
}

/** Marks the lease released; never deletes it, since the epoch number must stay taken (see above). */
export async function releaseLease(folder: string, epoch: number, ticket: LeaseTicket): Promise<void> {
  if (!(await isNewest(folder, epoch))) return;
  await replaceFile(folder, leasePath(folder, epoch), JSON.stringify({ owner: ticket.owner, holder: ticket.holder, expiresAt: 0, released: true } satisfies LeaseFile), false);
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

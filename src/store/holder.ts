import { randomBytes } from "node:crypto";
import { readlinkSync } from "node:fs";
import { hostname } from "node:os";

/**
 * Lease owner ids and dead-holder detection (SPEC §2.17), shared by every driver. An owner id
 * is `<pid>@<host>/<scope>.<random>`: `pid@host` names the process to people, the scope tells
 * apart processes that share a host name but not a process table (containers: the pid
 * namespace), and the random part tells two leases of one process apart. A waiter on the same
 * host and scope that finds the holder's pid gone takes the lease over at once instead of
 * waiting it out.
 */

/** The pid namespace on Linux; elsewhere one host is one process table. */
function processScope(): string {
  if (process.platform !== "linux") return "-";
  try {
    return /\[(\d+)\]/.exec(readlinkSync("/proc/self/ns/pid"))?.[1] ?? "-";
  } catch {
    return "-";
  }
}

let scope: string | undefined;
const here = () => `${hostname()}/${(scope ??= processScope())}`;

/** A new owner id for one lease, and `who` (`pid@host`) for display. */
export function newOwner(): { owner: string; who: string } {
  const who = `${process.pid}@${hostname()}`;
  return { who, owner: `${process.pid}@${here()}.${randomBytes(6).toString("hex")}` };
}

const OWNER = /^(\d+)@(.+\/[^/.]*)\.[0-9a-f]+$/;

/**
 * True only when `owner` is a process on this host (same process table) that no longer
 * exists. Anything else — another host, an id in another format, a live or inaccessible
 * process (EPERM: it exists) — is false, so the lease is waited out as before.
 */
export function holderIsGone(owner: string | undefined): boolean {
  const m = owner ? OWNER.exec(owner) : null;
  if (!m || m[2] !== here()) return false;
  const pid = Number(m[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

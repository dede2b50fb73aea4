import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { link, readFile, readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { TokenSmithError } from "../errors.js";
import { systemClock, type Clock } from "../clock.js";
import { recordTag, type LeaseBackend, type LeaseTicket, type RawRecord } from "./backend.js";
import { createStoreFromBackend } from "./engine.js";
import type { Store } from "./types.js";
import { loadOrCreateKeyFile, lostKeyHint } from "./keyfile.js";
import { isNewest, releaseLease, renewLease, takeLease, watchQuietly } from "./file-lease.js";
import { DIR_MODE, KEY_FILE_NAME, checkPrivateDir, commitGeneration, ensureDir, genPath, highest, listFolder, prune, readPrivateFile, replaceFile, storeError, syncDir } from "./file-io.js";

/**
 * The default store (SPEC §6): one machine, any number of processes. Layout under `dir`:
 *
 *   tokensmith.key              the generated key, unless store.key is set
 *   records/<id>/gen-<n>        generation n of a record, sealed; the highest n is current
 *   records/<id>/lease-<e>      the record's update lease, epoch e (see file-lease.ts)
 *   quarantine/<id>.gen-<n>.<time>   records that failed to open, kept for inspection
 *
 * Reads take no lock: generation files are written whole and never change once named.
 * Writes are fenced: generation n+1 is created with `link()`, which fails if it exists, and a
 * write that lands below a newer generation is withdrawn — so a holder whose lease ran out can
 * never replace a newer state, not even between its lease check and its write.
 */

export interface FileStoreOptions {
  /** The store folder (created 0700). */
  dir: string;
  /** Encryption key; default: the key file `tokensmith.key` in `dir`, created on first use. */
  key?: Buffer;
  /** Earlier keys, accepted for reading. */
  oldKeys?: Buffer[];
  clock?: Clock;
  /** Where quarantine and permission warnings go; default `process.emitWarning`. */
  onWarning?: (message: string) => void;
}

export { KEY_FILE_NAME } from "./file-io.js";
/** A read that races with writers and pruning retries this often before giving up. */
const MAX_READ_ATTEMPTS = 10;
/** Fallback poll while waiting, for file systems where `fs.watch` misses events. */
const WAIT_POLL_MS = 100;

/** Record keys can be long and contain anything: the folder name is a hash (128 bits, hex for case-insensitive disks). */
export const recordId = recordTag;

/** Stands in for a quarantined generation, so the generation number stays taken. */
interface Marker {
  quarantined: string;
}
function isMarker(text: string): boolean {
  if (!text.startsWith("{")) return false;
  try {
    return typeof (JSON.parse(text) as Partial<Marker>).quarantined === "string";
  } catch {
    return false;
  }
}

/** True when some record folder holds a generation sealed under a key (not only quarantine markers). */
async function holdsSealedRecords(recordsDir: string): Promise<boolean> {
  for (const id of await readdir(recordsDir).catch(() => [] as string[])) {
    const folder = join(recordsDir, id);
    const gens = (await listFolder(folder).catch(() => ({ gens: [] as number[] }))).gens;
    for (const n of gens) {
      const head = await readPrivateFile(genPath(folder, n), "record file").then((t) => t.slice(0, 8), () => "");
      if (/^tsr\d+\./.test(head)) return true;
    }
  }
  return false;
}

/** Opens (creating if needed) a file store in `options.dir`. */
export async function createFileStore(options: FileStoreOptions): Promise<Store> {
  const clock = options.clock ?? systemClock;
  const recordsDir = join(options.dir, "records");
  try {
    await ensureDir(recordsDir);
    await checkPrivateDir(options.dir);
  } catch (err) {
    throw storeError("create the store folder", options.dir, err);
  }
  const keyPath = join(options.dir, KEY_FILE_NAME);
  const lostKey = async () => ((await holdsSealedRecords(recordsDir)) ? lostKeyHint(keyPath, recordsDir) : undefined);
  const key = options.key ?? (await loadOrCreateKeyFile(keyPath, { lostKey }));
  return createStoreFromBackend(fileBackend(options.dir, clock), { key, oldKeys: options.oldKeys, clock, onWarning: options.onWarning });
}

/** The file backend: a folder per record, generations and lease epochs as numbered files. */
export function fileBackend(dir: string, clock: Clock): LeaseBackend {
  const recordsDir = join(dir, "records");
  const quarantineDir = join(dir, "quarantine");
  const folderOf = (key: string) => join(recordsDir, recordId(key));
  /** Leases this process holds, by owner: the epoch to renew, write under and release. */
  const held = new Map<string, { epoch: number; expiresAt: number }>();
  const watchers = new Set<() => void>();

  async function read(key: string): Promise<RawRecord | undefined> {
    const folder = folderOf(key);
    for (let attempt = 0; attempt < MAX_READ_ATTEMPTS; attempt++) {
      const generation = highest((await listFolder(folder).catch((err) => Promise.reject(storeError("list", folder, err)))).gens);
      if (generation === 0) return undefined;
      const path = genPath(folder, generation);
      let data: string;
      try {
        data = await readPrivateFile(path, "record file");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") continue; // pruned by a newer write: look again
        throw storeError("read", path, err);
      }
      return { generation, data: isMarker(data) ? null : data, where: path };
    }
    throw new TokenSmithError("store_error", `file store: the record in ${folder} kept changing while being read`);
  }

  /** Our unexpired lease that no one has taken over, or undefined. */
  async function ours(folder: string, ticket: LeaseTicket) {
    const lease = held.get(ticket.owner);
    return lease && lease.expiresAt > clock.now() && (await isNewest(folder, lease.epoch)) ? lease : undefined;
  }

  return {
    kind: "file",
    where: dir,
    pollMs: WAIT_POLL_MS,
    read,
    async acquire(key, ticket, leaseMs, deadOwner) {
      const folder = folderOf(key);
      try {
        await ensureDir(folder);
        const taken = await takeLease(folder, ticket, leaseMs, clock, deadOwner);
        if (!("epoch" in taken)) return taken;
        held.set(ticket.owner, taken);
      } catch (err) {
        throw storeError("take the lease in", folder, err);
      }
      return { acquired: true, record: (await read(key)) ?? { generation: 0, data: null } };
    },
    async renew(key, ticket, leaseMs) {
      const lease = held.get(ticket.owner);
      const expiresAt = clock.now() + leaseMs;
      if (!lease || !(await renewLease(folderOf(key), lease.epoch, ticket, expiresAt))) return false;
      lease.expiresAt = expiresAt;
      return true;
    },
    async write(key, ticket, generation, data) {
      const folder = folderOf(key);
      const lease = await ours(folder, ticket);
      if (!lease) return false;
      await commitGeneration(folder, generation, data);
      await prune(folder, "gen", generation, clock.now()).catch(() => {});
      held.delete(ticket.owner);
      await releaseLease(folder, lease.epoch, ticket).catch(() => {});
      return true;
    },
    async release(key, ticket) {
      const lease = held.get(ticket.owner);
      held.delete(ticket.owner);
      if (lease) await releaseLease(folderOf(key), lease.epoch, ticket);
    },
    async quarantine(key, record) {
      const folder = folderOf(key);
      const path = genPath(folder, record.generation);
      const stamp = new Date(clock.now()).toISOString().replace(/[:.]/g, "-");
      const target = join(quarantineDir, `${recordId(key)}.gen-${record.generation}.${stamp}.${randomBytes(3).toString("hex")}`);
      try {
        await ensureDir(quarantineDir);
        await link(path, target);
        // Another reader may have quarantined it first and left its marker in place.
        if ((await readFile(target, "utf8")) !== record.data) {
          await unlink(target);
          return undefined;
        }
        await syncDir(quarantineDir);
        await replaceFile(folder, path, JSON.stringify({ quarantined: target, at: new Date(clock.now()).toISOString() }), true);
        return target;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw storeError("quarantine", path, err);
      }
    },
    watch(key, onChange) {
      const folder = folderOf(key);
      mkdirSync(folder, { recursive: true, mode: DIR_MODE });
      const watcher = watchQuietly(folder, (file) => {
        if (file === null || file.startsWith("gen-") || file.startsWith("lease-")) onChange();
      });
      const stop = () => {
        watcher?.close();
        watchers.delete(stop);
      };
      watchers.add(stop);
      return stop;
    },
    async close() {
      for (const stop of [...watchers]) stop();
    },
  };
}

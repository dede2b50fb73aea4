import { createHash, randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { link, readFile, readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { TokenSmithError } from "../errors.js";
import { systemClock, type Clock } from "../clock.js";
import { DEFAULT_LEASE_MS, type Store, type StoreRecord, type UpdateOptions, type UpdateResult, type Updater } from "./types.js";
import { CorruptRecordError, UnreadableRecordError, createSealer, inContext, type Sealer } from "./sealed.js";
import { loadOrCreateKeyFile, lostKeyHint } from "./keyfile.js";
import { acquireLease, watchQuietly } from "./file-lease.js";
import { createInFlight } from "./in-flight.js";
import { DIR_MODE, checkPrivateDir, commitGeneration, ensureDir, genPath, highest, listFolder, prune, readPrivateFile, replaceFile, storeError, syncDir } from "./file-io.js";

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

/** File name of the generated key inside the store folder. */
export const KEY_FILE_NAME = "tokensmith.key";
/** A read that races with writers and pruning retries this often before giving up. */
const MAX_READ_ATTEMPTS = 10;

/** Record keys can be long and contain anything: the file name is a hash (128 bits, hex for case-insensitive disks). */
export function recordId(key: string): string {
  return createHash("sha256").update("tokensmith record\0").update(key).digest("hex").slice(0, 32);
}

interface Current<T> {
  /** Highest generation on disk (0 for none), the base of the next write even when unreadable. */
  generation: number;
  record?: StoreRecord<T>;
}

/** Stands in for a quarantined generation, so the generation number stays taken. */
interface Marker {
  quarantined: string;
}
function asMarker(text: string): Marker | undefined {
  if (!text.startsWith("{")) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<Marker>;
    return typeof parsed.quarantined === "string" ? (parsed as Marker) : undefined;
  } catch {
    return undefined;
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
  const warn = options.onWarning ?? ((message: string) => process.emitWarning(message, "TokenSmithWarning"));
  const recordsDir = join(options.dir, "records");
  const quarantineDir = join(options.dir, "quarantine");
  try {
    await ensureDir(recordsDir);
    await checkPrivateDir(options.dir);
  } catch (err) {
    throw storeError("create the store folder", options.dir, err);
  }
  const keyPath = join(options.dir, KEY_FILE_NAME);
  const lostKey = async () => ((await holdsSealedRecords(recordsDir)) ? lostKeyHint(keyPath, recordsDir) : undefined);
  const key = options.key ?? (await loadOrCreateKeyFile(keyPath, { lostKey }));
  const sealer: Sealer = createSealer({ key, oldKeys: options.oldKeys });
  const folderOf = (key: string) => join(recordsDir, recordId(key));
  const { track, settled } = createInFlight();
  const unsubscribers = new Set<() => void>();

  /** Moves a corrupt generation aside; "retry" when the file changed under us. */
  async function quarantine(folder: string, generation: number, data: string, reason: CorruptRecordError): Promise<"moved" | "retry"> {
    const path = genPath(folder, generation);
    const stamp = new Date(clock.now()).toISOString().replace(/[:.]/g, "-");
    const target = join(quarantineDir, `${folder.slice(recordsDir.length + 1)}.gen-${generation}.${stamp}.${randomBytes(3).toString("hex")}`);
    try {
      await ensureDir(quarantineDir);
      await link(path, target);
      // Another reader may have quarantined it first and left its marker in place.
      if ((await readFile(target, "utf8")) !== data) {
        await unlink(target);
        return "retry";
      }
      await syncDir(quarantineDir);
      await replaceFile(folder, path, JSON.stringify({ quarantined: target, at: new Date(clock.now()).toISOString() } satisfies Marker & { at: string }), true);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return "retry";
      throw storeError("quarantine", path, err);
    }
    warn(`file store: the record file ${path} is unreadable: ${reason.message.replace(/^stored record is corrupt: /, "")}. It was moved to ${target}; continuing as if no token were stored`);
    return "moved";
  }

  async function readCurrent<T>(key: string, folder: string, discardUnreadable = false): Promise<Current<T>> {
    for (let attempt = 0; attempt < MAX_READ_ATTEMPTS; attempt++) {
      const generation = highest((await listFolder(folder).catch((err) => Promise.reject(storeError("list", folder, err)))).gens);
      if (generation === 0) return { generation };
      const path = genPath(folder, generation);
      let data: string;
      try {
        data = await readPrivateFile(path, "record file");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") continue; // pruned by a newer write: look again
        throw storeError("read", path, err);
      }
      if (asMarker(data)) return { generation };
      try {
        return { generation, record: { generation, value: sealer.open<T>(key, generation, data) } };
      } catch (err) {
        if (discardUnreadable && err instanceof UnreadableRecordError) return { generation };
        if (!(err instanceof CorruptRecordError)) throw inContext(err as TokenSmithError, `file store: ${path}: `);
        if ((await quarantine(folder, generation, data, err)) === "moved") return { generation };
      }
    }
    throw new TokenSmithError("store_error", `file store: the record in ${folder} kept changing while being read`);
  }

  async function update<T>(key: string, fn: Updater<T>, opts: UpdateOptions): Promise<UpdateResult<T>> {
    const folder = folderOf(key);
    await ensureDir(folder).catch((err) => Promise.reject(storeError("create", folder, err)));
    const attempt = await acquireLease({ folder, clock, leaseMs: opts.leaseMs ?? DEFAULT_LEASE_MS, holder: opts.holder }, opts).catch((err) =>
      Promise.reject(storeError("take the lease in", folder, err)),
    );
    if (!attempt.held) return { status: "busy", holder: attempt.holder };
    const lease = attempt.held;
    try {
      const current = await readCurrent<T>(key, folder, opts.discardUnreadable);
      const next = await fn(current.record, lease);
      if (next === undefined) return { status: "unchanged", record: current.record };
      await lease.assertHeld();
      const generation = current.generation + 1;
      await commitGeneration(folder, generation, sealer.seal(key, generation, next));
      await prune(folder, "gen", generation, clock.now()).catch(() => {});
      return { status: "written", record: { generation, value: JSON.parse(JSON.stringify(next)) as T } };
    } finally {
      await lease.release();
    }
  }

  return {
    kind: "file",
    get<T>(key: string) {
      return track(readCurrent<T>(key, folderOf(key)).then((c) => c.record));
    },
    update<T>(key: string, fn: Updater<T>, opts: UpdateOptions) {
      return track(update(key, fn, opts));
    },
    subscribe(key, onChange) {
      const folder = folderOf(key);
      mkdirSync(folder, { recursive: true, mode: DIR_MODE });
      const watcher = watchQuietly(folder, (file) => {
        if (file === null || file.startsWith("gen-")) onChange();
      });
      const stop = () => {
        watcher?.close();
        unsubscribers.delete(stop);
      };
      unsubscribers.add(stop);
      return stop;
    },
    async close() {
      await settled();
      for (const stop of [...unsubscribers]) stop();
    },
  };
}

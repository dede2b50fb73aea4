import type { Redis } from "ioredis";
import { TokenSmithError } from "../errors.js";

/**
 * How durable a Redis write is, learned from the server and enforced where it can be (SPEC
 * §6). A rotated refresh token lives only in the store: if Redis forgets an acknowledged
 * write, the next refresh sends a token the server has already replaced, and the user must
 * log in again. So on first use we read `INFO persistence` and `INFO memory` and warn when
 * AOF is off or the eviction policy may drop records; after each write we wait for the AOF
 * (WAITAOF, Redis 7.2+). None of this makes Redis as strong as Postgres; it makes it honest.
 */

/** With appendfsync everysec an fsync comes within a second; allow for a slow disk. */
const WAITAOF_TIMEOUT_MS = 5_000;

/** A `field:value` line of an INFO reply. */
export function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:([^\\r\\n]*)`, "m").exec(info)?.[1];
}

/** `aof_enabled` from `INFO persistence`; undefined when the server does not say. */
export function aofEnabled(info: string): boolean | undefined {
  const value = infoField(info, "aof_enabled");
  return value === undefined ? undefined : value === "1";
}

/** `allkeys-*` policies may evict any key under memory pressure, records included. */
export const evictsRecords = (policy: string | undefined): boolean => policy !== undefined && policy.startsWith("allkeys");

export interface Durability {
  /** Checks once per process, before the first command; a failure (server down) is retried later. */
  ready(): Promise<void>;
  /** Waits until the last write is in the AOF; throws `store_error` if the server cannot confirm it. */
  afterWrite(): Promise<void>;
}

export function createDurability(client: Redis, where: string, warn: (message: string) => void, isTransient: (err: unknown) => boolean): Durability {
  let aof: boolean | undefined;
  let waitaof = true;
  let checked: Promise<void> | undefined;

  const check = async () => {
    let persistence: string;
    let memory: string;
    try {
      persistence = String(await client.info("persistence"));
      memory = String(await client.info("memory"));
    } catch (err) {
      if (isTransient(err)) throw err;
      // INFO refused (an ACL, a managed service): durability cannot be checked, but the store works.
      warn(`redis store: could not check persistence on ${where} (INFO was refused); make sure AOF is on and maxmemory-policy is noeviction, or use the postgres store`);
      return;
    }
    aof = aofEnabled(persistence);
    if (aof === false) {
      warn(
        `redis store: AOF persistence is off on ${where}, so a restart can lose rotated refresh tokens and force new logins; ` +
          "set appendonly yes (with appendfsync always or everysec), or use the postgres store",
      );
    }
    const policy = infoField(memory, "maxmemory_policy");
    if (evictsRecords(policy)) {
      warn(`redis store: maxmemory-policy is ${policy} on ${where}, so Redis may evict token records under memory pressure; set maxmemory-policy noeviction`);
    }
  };

  return {
    async ready() {
      checked ??= check().catch((err) => {
        checked = undefined;
        throw err;
      });
      await checked;
    },
    async afterWrite() {
      if (!aof || !waitaof) return;
      let local: number;
      try {
        const reply = (await client.call("WAITAOF", 1, 0, WAITAOF_TIMEOUT_MS)) as [number, number];
        local = Number(reply[0]);
      } catch (err) {
        if (!/unknown command/i.test(String((err as Error).message))) throw notConfirmed(where, err);
        waitaof = false;
        // With appendfsync always the server itself syncs before it answers: nothing to add.
        const fsync = (await client.config("GET", "appendfsync").catch(() => [])) as string[];
        if (fsync[1] !== "always") {
          warn(`redis store: ${where} has no WAITAOF (Redis 7.2+), so a write is acknowledged before it reaches the AOF; set appendfsync always to close that gap`);
        }
        return;
      }
      if (local < 1) throw notConfirmed(where);
    },
  };
}

/** Not retried by the store: the write itself landed, only its durability is in doubt. */
function notConfirmed(where: string, cause?: unknown): TokenSmithError {
  return new TokenSmithError("store_error", `redis store: a write at ${where} was not confirmed in the AOF within ${WAITAOF_TIMEOUT_MS} ms`, {
    hint: "check the Redis server's disk; the new state is in memory but may not survive a restart",
    cause,
  });
}

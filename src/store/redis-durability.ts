import type { Redis } from "ioredis";
import { TokenSmithError } from "../errors.js";

/**
 * How durable a Redis write is, learned from the server and enforced where it can be (SPEC
 * §6). A rotated refresh token lives only in the store: if Redis forgets an acknowledged
 * write, the next refresh sends a token the server has already replaced, and the user must
 * log in again. So on first use we read `INFO` of every master (one, or each master of a
 * cluster) and warn when AOF is off or the eviction policy may drop records; after each write
 * we wait for the AOF (WAITAOF, Redis 7.2+) and, where the master has replicas (Sentinel), for
 * one replica (WAIT), so a failover does not forget it. None of this makes Redis as strong as
 * Postgres; it makes it honest.
 */

/** With appendfsync everysec an fsync comes within a second; allow for a slow disk. */
const WAITAOF_TIMEOUT_MS = 5_000;
/** A replica on a healthy link acknowledges within milliseconds; longer means it is gone or being promoted. */
const WAIT_REPLICA_MS = 1_000;

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

/** A command sent right after a write, on the write's own connection (WAITAOF and WAIT count that client's writes). */
export type FollowUp = [command: string, ...args: Array<string | number>];

export interface Durability {
  /** Checks every master once per process, before the first command; a failure (server down) is retried later. */
  ready(): Promise<void>;
  /** What to pipeline after a write: WAITAOF (AOF on, Redis 7.2+) and WAIT (the master had replicas). */
  followUps(): FollowUp[];
  /**
   * Checks the replies of `followUps()`: throws `store_error` if the AOF did not confirm the
   * write, and a transient error if no replica took it (a failover may be under way: the
   * store writes again, and finds the current master).
   */
  confirm(replies: unknown[]): Promise<void>;
}

/** What one master said about itself. */
interface MasterFacts {
  aof?: boolean;
  waitaof: boolean;
  replicas: number;
}

/** `major.minor` of `redis_version` at least 7.2 (WAITAOF). */
const hasWaitaof = (version: string | undefined) => {
  const [major = 0, minor = 0] = (version ?? "").split(".").map(Number);
  return major > 7 || (major === 7 && minor >= 2);
};

/** A write that no replica acknowledged: retried by the store, which reconnects to the current master. */
export class ReplicaNotConfirmedError extends Error {
  override name = "ReplicaNotConfirmedError";
}

export function createDurability(
  masters: () => Promise<Array<{ name: string; client: Redis }>>,
  where: string,
  warn: (message: string) => void,
  isTransient: (err: unknown) => boolean,
): Durability {
  let facts: MasterFacts[] = [];
  let checked: Promise<void> | undefined;

  const checkOne = async (name: string, client: Redis): Promise<MasterFacts> => {
    let info: string;
    try {
      info = String(await client.info());
    } catch (err) {
      if (isTransient(err)) throw err;
      // INFO refused (an ACL, a managed service): durability cannot be checked, but the store works.
      warn(`redis store: could not check persistence on ${name} (INFO was refused); make sure AOF is on and maxmemory-policy is noeviction, or use the postgres store`);
      return { waitaof: false, replicas: 0 };
    }
    const aof = aofEnabled(info);
    const waitaof = aof === true && hasWaitaof(infoField(info, "redis_version"));
    if (aof === false) {
      warn(
        `redis store: AOF persistence is off on ${name}, so a restart can lose rotated refresh tokens and force new logins; ` +
          "set appendonly yes (with appendfsync always or everysec), or use the postgres store",
      );
    } else if (aof && !waitaof) {
      // With appendfsync always the server itself syncs before it answers: nothing to add.
      const fsync = (await client.config("GET", "appendfsync").catch(() => [])) as string[];
      if (fsync[1] !== "always") {
        warn(`redis store: ${name} has no WAITAOF (Redis 7.2+), so a write is acknowledged before it reaches the AOF; set appendfsync always to close that gap`);
      }
    }
    const policy = infoField(info, "maxmemory_policy");
    if (evictsRecords(policy)) {
      warn(`redis store: maxmemory-policy is ${policy} on ${name}, so Redis may evict token records under memory pressure; set maxmemory-policy noeviction`);
    }
    return { aof, waitaof, replicas: Number(infoField(info, "connected_slaves") ?? 0) };
  };

  const check = async () => {
    const found = await masters();
    facts = await Promise.all(found.map(({ name, client }) => checkOne(name, client)));
  };

  // Only when every master supports it: a write's master is not known before it is routed.
  const everyMaster = (test: (f: MasterFacts) => boolean) => facts.length > 0 && facts.every(test);

  return {
    async ready() {
      checked ??= check().catch((err) => {
        checked = undefined;
        throw err;
      });
      await checked;
    },
    followUps() {
      const commands: FollowUp[] = [];
      if (everyMaster((f) => f.waitaof)) commands.push(["WAITAOF", 1, 0, WAITAOF_TIMEOUT_MS]);
      if (everyMaster((f) => f.replicas > 0)) commands.push(["WAIT", 1, WAIT_REPLICA_MS]);
      return commands;
    },
    async confirm(replies) {
      const commands = this.followUps();
      for (const [i, [command]] of commands.entries()) {
        const reply = replies[i];
        if (reply instanceof Error) throw command === "WAIT" ? reply : notConfirmed(where, reply);
        if (command === "WAITAOF" && Number((reply as [number, number])[0]) < 1) throw notConfirmed(where);
        if (command === "WAIT" && Number(reply) < 1) {
          // A replica gone for good (the master alone, e.g. after a failover) is a fact to
          // warn about, not a reason to refuse writes; a replica still listed may be being promoted.
          checked = undefined;
          await this.ready();
          if (everyMaster((f) => f.replicas > 0)) {
            throw new ReplicaNotConfirmedError(`no replica of ${where} acknowledged the write within ${WAIT_REPLICA_MS} ms`);
          }
          warn(`redis store: the master at ${where} has no replica any more, so a failover now would lose recent writes`);
        }
      }
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

import { systemClock, type Clock } from "../clock.js";
import { importDriverPackage } from "./driver-package.js";
import { recordTag, type LeaseBackend, type RawRecord } from "./backend.js";
import { createChannelWatch, type ChannelListener } from "./channel.js";
import { createStoreFromBackend } from "./engine.js";
import { TRANSIENT_ERRNO, serverHint, type NetworkStoreOptions } from "./network.js";
import { connectRedis, duplicateClient, redisMasters, type RedisConnection } from "./redis-client.js";
import { createDurability } from "./redis-durability.js";
import { SCRIPTS, runScript } from "./redis-scripts.js";
import type { Store } from "./types.js";

/**
 * The Redis store (SPEC §6). Per token state: `<prefix>{<tag>}:record`, a hash of the
 * generation and the sealed record, never with a TTL; `<prefix>{<tag>}:lease`, the update
 * lease, taken with SET NX PX and an owner ticket. `{<tag>}` is a hash tag, so a record, its
 * lease and its quarantined copies share one cluster slot and one script can touch them all.
 * Writes are Lua scripts fenced by generation and owner; waiters hear `<prefix>changes`.
 *
 * Redis keeps a rotated refresh token only as safely as its persistence: we warn when AOF is
 * off and wait for the write to reach the AOF (WAITAOF, Redis 7.2+). Postgres is the stronger
 * choice; see docs/deployment.md.
 */

export interface RedisStoreOptions extends NetworkStoreOptions {
  /** Prefix of every key and of the channel. Default `tokensmith:`. */
  prefix?: string;
  /** URLs of Redis Cluster nodes; `url` is then unused. */
  cluster?: string[];
}

export const DEFAULT_PREFIX = "tokensmith:";
const TRANSIENT_MESSAGE = /Connection is closed|max retries per request|Command timed out|LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY|Stream isn't writeable|Failed to refresh slots cache|All sentinels are unreachable/i;

/** Opens the store; the client connects, and persistence is checked, on first use. */
export async function createRedisStore(options: RedisStoreOptions): Promise<Store> {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const warn = options.onWarning ?? ((message: string) => process.emitWarning(message, "TokenSmithWarning"));
  const ioredis = await importDriverPackage(() => import("ioredis"), "ioredis", "redis");
  const connection = connectRedis(ioredis, options.url, options.cluster);
  // Connection errors surface as failed commands (and store_error); the event itself is noise.
  connection.client.on("error", () => {});
  const backend = redisBackend(connection, { prefix, where: connection.where, warn, clock: options.clock ?? systemClock });
  return createStoreFromBackend(backend, { ...options, onWarning: warn });
}

export function isTransientRedisError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; name?: unknown };
  if (typeof e?.code === "string" && TRANSIENT_ERRNO.has(e.code)) return true;
  return e?.name === "MaxRetriesPerRequestError" || e?.name === "ReplicaNotConfirmedError" || e?.name === "ClusterAllFailedError" || (typeof e?.message === "string" && TRANSIENT_MESSAGE.test(e.message));
}

/** Key names of one record; the hash tag `{...}` puts them in one cluster slot. */
export function redisKeys(prefix: string, key: string) {
  const base = `${prefix}{${recordTag(key)}}`;
  return { record: `${base}:record`, lease: `${base}:lease`, quarantine: (generation: number, at: number) => `${base}:quarantine:${generation}:${at}` };
}

interface BackendContext {
  clock: Clock;
  prefix: string;
  where: string;
  warn: (message: string) => void;
}

function redisBackend(connection: RedisConnection, ctx: BackendContext): LeaseBackend {
  const { client } = connection;
  const channel = `${ctx.prefix}changes`;
  const keys = (key: string) => redisKeys(ctx.prefix, key);
  const ticketOf = (t: { owner: string; holder: string }) => JSON.stringify({ owner: t.owner, holder: t.holder });
  const durability = createDurability(() => redisMasters(connection), ctx.where, ctx.warn, isTransientRedisError);
  const ready = durability.ready;
  const changes = createChannelWatch((listener) => subscribeChannel(connection, channel, listener));

  const script = async (name: Parameters<typeof runScript>[1], key: string, args: Array<string | number>, quarantineKey?: string) => {
    await ready();
    const k = keys(key);
    return runScript(client, name, quarantineKey ? [k.record, quarantineKey] : [k.record, k.lease], args);
  };
  /**
   * A script followed, in one pipeline, by WAITAOF / WAIT: they run on the connection (the
   * cluster node) that ran it, and are checked when `landed` says the script changed something.
   */
  const confirmed = async (name: "WRITE" | "ACQUIRE", key: string, args: Array<string | number>, landed: (reply: unknown) => boolean) => {
    await ready();
    const k = keys(key);
    const pipeline = client.pipeline();
    pipeline.eval(SCRIPTS[name], 2, k.record, k.lease, ...args);
    for (const [command, ...rest] of durability.followUps()) pipeline.call(command, ...rest);
    const results = (await pipeline.exec()) ?? [];
    const [err, reply] = results[0] ?? [new Error("Connection is closed.")];
    if (err) throw err;
    if (landed(reply)) await durability.confirm(results.slice(1).map(([e, r]) => e ?? r));
    return reply;
  };
  const raw = (generation: unknown, data: unknown): RawRecord | undefined =>
    generation === null || generation === undefined ? undefined : { generation: Number(generation), data: data === null || data === undefined ? null : String(data) };

  return {
    kind: "redis",
    where: ctx.where,
    async read(key) {
      await ready();
      const [generation, data] = await client.hmget(keys(key).record, "generation", "data");
      return raw(generation, data);
    },
    async acquire(key, ticket, leaseMs, deadOwner) {
      // Confirmed like a write: a lease a failover forgot would let a second holder refresh.
      const reply = (await confirmed("ACQUIRE", key, [ticketOf(ticket), leaseMs, deadOwner ?? ""], (r) => (r as [number])[0] === 1)) as [number, unknown, unknown];
      if (reply[0] === 1) return { acquired: true, record: raw(reply[1], reply[2]) ?? { generation: 0, data: null } };
      let holding: { holder?: string; owner?: string } = {};
      try {
        holding = JSON.parse(String(reply[1])) as typeof holding;
      } catch {
        // a lease written by something else: still a lease
      }
      // PTTL is negative for a lease without expiry (set by hand): poll at the normal pace.
      const pttl = Number(reply[2]);
      return { acquired: false, holder: holding.holder, owner: holding.owner, expiresInMs: pttl >= 0 ? pttl : undefined };
    },
    async renew(key, ticket, leaseMs) {
      return (await script("RENEW", key, [ticketOf(ticket), leaseMs])) === 1;
    },
    async write(key, ticket, generation, data) {
      return (await confirmed("WRITE", key, [ticketOf(ticket), generation, data, channel, recordTag(key)], (reply) => reply === 1)) === 1;
    },
    async release(key, ticket) {
      await script("RELEASE", key, [ticketOf(ticket), channel, recordTag(key)]);
    },
    async quarantine(key, record, reason) {
      const at = ctx.clock.now();
      const target = keys(key).quarantine(record.generation, at);
      const moved = await script("QUARANTINE", key, [record.generation, record.data, reason, new Date(at).toISOString()], target);
      return moved === 1 ? `the Redis key ${target}` : undefined;
    },
    watch: changes.watch,
    isTransient: isTransientRedisError,
    hint: serverHint("redis", ctx.where),
    reason: (err) => {
      const e = err as { code?: unknown; name?: unknown; message?: unknown };
      if (e?.name === "MaxRetriesPerRequestError") return "not connected; reconnecting";
      return String(e?.code ?? e?.message ?? err);
    },
    async close() {
      await changes.close();
      if (client.status === "ready") await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    },
  };
}

/** A subscriber connection (pub/sub needs its own) that resubscribes after every reconnect. */
function subscribeChannel(connection: RedisConnection, channel: string, listener: ChannelListener): () => Promise<void> {
  const sub = duplicateClient(connection);
  sub.on("error", () => {});
  sub.on("message", (from: string, tag: string) => from === channel && listener.onChange(tag));
  sub.on("ready", () => {
    sub.subscribe(channel).then(
      () => listener.onReset(),
      () => {}, // the next reconnect tries again; waiters poll meanwhile
    );
  });
  return async () => {
    sub.disconnect();
  };
}

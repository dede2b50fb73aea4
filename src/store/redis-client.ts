import type { Cluster, Redis, RedisOptions } from "ioredis";
import { TokenSmithError } from "../errors.js";
import { registerSecret } from "../redact.js";
import { describeServer } from "./network.js";

/**
 * The three shapes of a Redis deployment the store connects to (SPEC §6): one server
 * (`redis://`), a master found through Sentinel (`redis+sentinel://[user:pass@]host:port[,host:port...]/mastername[/db]`)
 * and a Redis Cluster (`store.cluster: [urls]`). Each gives one command client; the store's
 * keys share a hash tag per record, so the Cluster routes each script to one master.
 */

export type RedisClient = Redis | Cluster;
type IORedis = Pick<typeof import("ioredis"), "Redis" | "Cluster">;

/** An unreachable server fails fast: callers with a valid token are not kept waiting. */
const CONNECT_TIMEOUT_MS = 5_000;
/** Our commands take microseconds (WAIT a second at most); a silent server this long is an outage. */
const COMMAND_TIMEOUT_MS = 10_000;
/** Reconnect delays grow by this much per attempt... */
const RECONNECT_STEP_MS = 100;
/** ...up to this: a returning server is found within half a second, and a command queued while disconnected fails within two attempts. */
const RECONNECT_MAX_MS = 500;
/** A command issued while disconnected waits for one reconnect attempt, then fails (our own retries follow). */
const MAX_RETRIES_PER_REQUEST = 1;
/** Sentinel's default port, used when a sentinel address has none. */
const SENTINEL_PORT = 26379;
const REDIS_PORT = 6379;

export interface RedisConnection {
  client: RedisClient;
  kind: "standalone" | "sentinel" | "cluster";
  /** For messages: `host:port`, `mastername via sentinel host:port,...`, `cluster host:port,...`. */
  where: string;
}

const retryStrategy = (attempt: number) => Math.min(attempt * RECONNECT_STEP_MS, RECONNECT_MAX_MS);
const common: RedisOptions = {
  lazyConnect: true,
  connectTimeout: CONNECT_TIMEOUT_MS,
  commandTimeout: COMMAND_TIMEOUT_MS,
  maxRetriesPerRequest: MAX_RETRIES_PER_REQUEST,
  retryStrategy,
  connectionName: "tokensmith",
};

/** Opens (lazily) the client for a `store.url` or a `store.cluster` list. */
export function connectRedis(ioredis: IORedis, url: string, cluster?: string[]): RedisConnection {
  if (cluster?.length) {
    const nodes = cluster.map((entry, i) => parseNode(entry, `store.cluster[${i}]`));
    const auth = nodes.find((n) => n.password !== undefined || n.username !== undefined) ?? nodes[0]!;
    const client = new ioredis.Cluster(
      nodes.map(({ host, port }) => ({ host, port })),
      {
        lazyConnect: true,
        clusterRetryStrategy: retryStrategy,
        retryDelayOnFailover: RECONNECT_STEP_MS,
        retryDelayOnClusterDown: RECONNECT_STEP_MS,
        retryDelayOnTryAgain: RECONNECT_STEP_MS,
        scaleReads: "master",
        redisOptions: { ...common, username: auth.username, password: auth.password, ...(auth.tls && { tls: {} }) },
      },
    );
    return { client, kind: "cluster", where: `cluster ${nodes.map((n) => `${n.host}:${n.port}`).join(",")}` };
  }
  if (/^rediss?\+sentinel:/i.test(url)) {
    const s = parseSentinelUrl(url);
    const client = new ioredis.Redis({
      ...common,
      sentinels: s.sentinels,
      name: s.name,
      db: s.db,
      username: s.username,
      password: s.password,
      // Sentinels are asked for the master again after every reconnect; a demoted master's
      // READONLY answer is a reason to ask (the command fails and the store's retry follows).
      sentinelRetryStrategy: retryStrategy,
      reconnectOnError: (err) => /READONLY/.test(err.message),
      ...(s.tls && { tls: {}, enableTLSForSentinelMode: true }),
    });
    return { client, kind: "sentinel", where: `${s.name} via sentinel ${s.sentinels.map((n) => `${n.host}:${n.port}`).join(",")}${s.db ? `/${s.db}` : ""}` };
  }
  if (!url) throw new TokenSmithError("config_invalid", "a redis store needs store.url or store.cluster", { field: "store.url", hint: "e.g. url: redis://:password@host:6379/0" });
  return { client: new ioredis.Redis(url, common), kind: "standalone", where: describeServer(url) };
}

interface Node {
  host: string;
  port: number;
  username?: string;
  password?: string;
  tls: boolean;
}

const urlError = (field: string, message: string, hint: string) => new TokenSmithError("config_invalid", `${field}: ${message}`, { field, hint });
const SENTINEL_HINT = "e.g. redis+sentinel://:password@10.0.0.1:26379,10.0.0.2:26379/mymaster/0";

/** A cluster node URL, `redis[s]://[user:pass@]host[:port]`. The URL itself is never echoed (it may hold a password). */
function parseNode(entry: string, field: string): Node {
  let u: URL;
  try {
    u = new URL(entry);
  } catch {
    throw urlError(field, "not a redis URL", "list cluster nodes as redis://host:port");
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") throw urlError(field, `must be a redis: or rediss: URL (got ${u.protocol})`, "list cluster nodes as redis://host:port");
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  if (password) registerSecret(password);
  return { host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port || REDIS_PORT), username: u.username ? decodeURIComponent(u.username) : undefined, password, tls: u.protocol === "rediss:" };
}

export interface SentinelTarget {
  sentinels: Array<{ host: string; port: number }>;
  name: string;
  db?: number;
  username?: string;
  password?: string;
  tls: boolean;
}

/**
 * `redis+sentinel://[user:pass@]host:port[,host:port...]/mastername[/db]`: the credentials are
 * the master's (and its replicas'); the sentinels are asked without them.
 */
export function parseSentinelUrl(url: string): SentinelTarget {
  const m = /^(rediss?)\+sentinel:\/\/(?:(.*)@)?([^/@?#]+)\/([^/?#]+)(?:\/(\d+))?\/?$/i.exec(url);
  if (!m) throw urlError("store.url", "not a redis+sentinel URL", SENTINEL_HINT);
  const [, scheme, userinfo, hosts, name, db] = m;
  const sentinels = hosts!.split(",").map((address) => {
    let u: URL;
    try {
      u = new URL(`redis://${address.trim()}`);
    } catch {
      throw urlError("store.url", `sentinel address ${JSON.stringify(address)} is not host:port`, SENTINEL_HINT);
    }
    if (!u.hostname || u.pathname.length > 1) throw urlError("store.url", `sentinel address ${JSON.stringify(address)} is not host:port`, SENTINEL_HINT);
    return { host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port || SENTINEL_PORT) };
  });
  let username: string | undefined;
  let password: string | undefined;
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(":");
    const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    const pass = colon < 0 ? "" : userinfo.slice(colon + 1);
    username = user ? decodeURIComponent(user) : undefined;
    password = pass ? decodeURIComponent(pass) : undefined;
    if (password) registerSecret(password);
  }
  return { sentinels, name: decodeURIComponent(name!), db: db === undefined ? undefined : Number(db), username, password, tls: scheme!.toLowerCase() === "rediss" };
}

/** A second client to the same deployment, connecting now (pub/sub needs a connection of its own). */
export function duplicateClient(connection: RedisConnection): RedisClient {
  const { client } = connection;
  return connection.kind === "cluster" ? (client as Cluster).duplicate(undefined, { lazyConnect: false }) : (client as Redis).duplicate({ lazyConnect: false });
}

/** The masters the data lives on, each with a name for messages: one, or every master of a cluster. */
export async function redisMasters(connection: RedisConnection): Promise<Array<{ name: string; client: Redis }>> {
  const { client } = connection;
  if (connection.kind !== "cluster") return [{ name: connection.where, client: client as Redis }];
  const cluster = client as Cluster;
  // The first command connects the cluster and loads its slot map, and with it the masters.
  if (cluster.status !== "ready") await cluster.ping();
  return cluster.nodes("master").map((node) => ({ name: `${node.options.host}:${node.options.port}`, client: node }));
}

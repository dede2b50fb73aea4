/**
 * Private Redis deployments for the Cluster and Sentinel tests: a 3-master Redis Cluster, and
 * a master with one replica watched by a sentinel (`redis-server --sentinel`), each process on
 * a free loopback port in one temporary folder, all with AOF (appendfsync always). destroy()
 * kills every process and removes the folder.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./servers.js";

const run = promisify(execFile);
const START_TIMEOUT_MS = 20_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Sentinel calls a silent master down after this long (its default, 30 s, is too slow for a test). */
const DOWN_AFTER_MS = 1_000;

/** A child process that printed `ready` (a pattern) on stdout. */
async function startProcess(args: string[], ready: RegExp): Promise<ChildProcess> {
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const started = Date.now();
  while (!ready.test(out)) {
    if (child.exitCode !== null) throw new Error(`redis-server ${args.join(" ")} exited: ${out}`);
    if (Date.now() - started > START_TIMEOUT_MS) throw new Error(`redis-server did not start: ${out}`);
    await sleep(20);
  }
  return child;
}

async function kill(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

/** Waits until `check` passes (it throws or returns false while not yet). */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = START_TIMEOUT_MS): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const cli = async (port: number, ...args: string[]) => (await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args])).stdout;
const serverArgs = (port: number, dir: string) => ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--appendfilename", `aof-${port}.aof`, "--appenddirname", `aof-${port}`];

export interface RedisCluster {
  /** The node URLs, for `store.cluster`. */
  nodes: string[];
  destroy(): Promise<void>;
}

/** Three masters, no replicas, every slot assigned (`redis-cli --cluster create`). */
export async function startRedisCluster(): Promise<RedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), "tokensmith-redis-cluster-"));
  const ports = [await freePort(), await freePort(), await freePort()];
  const procs: ChildProcess[] = [];
  const destroy = async () => {
    await Promise.all(procs.map(kill));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      const args = [...serverArgs(port, dir), "--cluster-enabled", "yes", "--cluster-config-file", `nodes-${port}.conf`, "--cluster-node-timeout", "2000"];
      procs.push(await startProcess(args, /Ready to accept connections/));
    }
    await run("redis-cli", ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"]);
    await until("cluster_state:ok", async () => (await Promise.all(ports.map((p) => cli(p, "cluster", "info")))).every((info) => info.includes("cluster_state:ok")));
    return { nodes: ports.map((p) => `redis://127.0.0.1:${p}`), destroy };
  } catch (err) {
    await destroy();
    throw err;
  }
}

export interface RedisSentinel {
  /** `redis+sentinel://` URL naming a dead sentinel address first, then the live one. */
  url: string;
  masterName: string;
  sentinelPort: number;
  /** The port of the current master, as the sentinel reports it. */
  masterPort(): Promise<number>;
  /** SIGKILLs the current master; `failover` is the port of the replica once the sentinel has promoted it. */
  killMaster(): Promise<{ killed: number; failover: Promise<number> }>;
  destroy(): Promise<void>;
}

/** A master, one replica, and one sentinel (quorum 1) watching them. */
export async function startRedisSentinel(): Promise<RedisSentinel> {
  const dir = await mkdtemp(join(tmpdir(), "tokensmith-redis-sentinel-"));
  const [master, replica, sentinel, dead] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const masterName = "tokensmith-test";
  const procs = new Map<number, ChildProcess>();
  const destroy = async () => {
    await Promise.all([...procs.values()].map(kill));
    await rm(dir, { recursive: true, force: true });
  };
  const masterPort = async () => Number((await cli(sentinel, "sentinel", "get-master-addr-by-name", masterName)).trim().split("\n")[1]);
  try {
    procs.set(master, await startProcess(serverArgs(master, dir), /Ready to accept connections/));
    procs.set(replica, await startProcess([...serverArgs(replica, dir), "--replicaof", "127.0.0.1", String(master)], /Ready to accept connections/));
    await until("the replica in sync", async () => /master_link_status:up/.test(await cli(replica, "info", "replication")));
    const conf = join(dir, "sentinel.conf");
    await writeFile(
      conf,
      [
        `port ${sentinel}`,
        "bind 127.0.0.1",
        `dir ${dir}`,
        `sentinel monitor ${masterName} 127.0.0.1 ${master} 1`,
        `sentinel down-after-milliseconds ${masterName} ${DOWN_AFTER_MS}`,
        `sentinel failover-timeout ${masterName} 10000`,
        `sentinel parallel-syncs ${masterName} 1`,
        "",
      ].join("\n"),
    );
    procs.set(sentinel, await startProcess([conf, "--sentinel"], /monitor master/));
    await until("the sentinel to see the replica", async () => /num-slaves\s+1/.test((await cli(sentinel, "sentinel", "master", masterName)).replace(/\n/g, " ")));
    return {
      url: `redis+sentinel://127.0.0.1:${dead},127.0.0.1:${sentinel}/${masterName}`,
      masterName,
      sentinelPort: sentinel,
      masterPort,
      async killMaster() {
        const killed = await masterPort();
        await kill(procs.get(killed));
        procs.delete(killed);
        const failover = (async () => {
          await until("the failover", async () => (await masterPort()) !== killed);
          const promoted = await masterPort();
          await until("the promoted replica to take writes", async () => /role:master/.test(await cli(promoted, "info", "replication")));
          return promoted;
        })();
        failover.catch(() => {}); // awaited by the caller
        return { killed, failover };
      },
      destroy,
    };
  } catch (err) {
    await destroy();
    throw err;
  }
}

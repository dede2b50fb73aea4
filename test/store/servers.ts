/**
 * Private database servers for outage tests: a throwaway Postgres cluster (initdb + pg_ctl)
 * and a redis-server with AOF, each in its own temporary folder on a free loopback port, so
 * tests can stop, kill and restart them without touching the shared instances.
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, chown } from "node:fs/promises";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
/** Postgres binaries: on PATH in /usr/local/bin here, else Debian's versioned folder. */
const PG_BIN = ["/usr/local/bin", "/usr/lib/postgresql/15/bin"].find((dir) => existsSync(join(dir, "initdb"))) ?? "";
/** initdb refuses to run as root: as root, the cluster belongs to this user. */
const PG_OS_USER = "postgres";
/** How long a starting server may take to accept connections on a busy 2-core machine. */
const START_TIMEOUT_MS = 20_000;

/** A port nobody listens on right now (the server binds it a moment later). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface PrivateServer {
  url: string;
  /** Starts the server again after stop/kill, on the same port and data. */
  start(): Promise<void>;
  /** Stops it: `immediate` (Postgres) / SIGKILL (Redis) is a crash, no clean shutdown. */
  stop(): Promise<void>;
  /** Stops it and removes its folder. */
  destroy(): Promise<void>;
}

const asRoot = typeof process.getuid === "function" && process.getuid() === 0;
const asPgUser = (cmd: string, args: string[]) => (asRoot ? run("runuser", ["-u", PG_OS_USER, "--", cmd, ...args]) : run(cmd, args));

/** A fresh Postgres cluster with trust auth (database `postgres`); stop() crashes it (-m immediate). */
export async function startPrivatePostgres(): Promise<PrivateServer> {
  const dir = await mkdtemp(join(tmpdir(), "tokensmith-pg-"));
  if (asRoot) await chown(dir, Number((await run("id", ["-u", PG_OS_USER])).stdout), Number((await run("id", ["-g", PG_OS_USER])).stdout));
  const data = join(dir, "data");
  const port = await freePort();
  await asPgUser(join(PG_BIN, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=30`;
  const start = async () => {
    await asPgUser(join(PG_BIN, "pg_ctl"), ["-D", data, "-o", options, "-l", join(dir, "log"), "-w", "-t", String(START_TIMEOUT_MS / 1000), "start"]);
  };
  const stop = async () => {
    await asPgUser(join(PG_BIN, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => {});
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    async destroy() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A redis-server with AOF (appendfsync always) in a temp folder; stop() is SIGKILL. */
export async function startPrivateRedis(options: { aof?: boolean; args?: string[] } = {}): Promise<PrivateServer> {
  const dir = await mkdtemp(join(tmpdir(), "tokensmith-redis-"));
  const port = await freePort();
  const aof = options.aof ?? true;
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", aof ? "yes" : "no", "--appendfsync", "always", ...(options.args ?? [])];
  let proc: ChildProcess | undefined;
  const start = async () => {
    const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    proc = child;
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const started = Date.now();
    while (!/Ready to accept connections/.test(out)) {
      if (child.exitCode !== null) throw new Error(`redis-server exited: ${out}`);
      if (Date.now() - started > START_TIMEOUT_MS) throw new Error(`redis-server did not start: ${out}`);
      await sleep(20);
    }
  };
  const stop = async () => {
    const child = proc;
    proc = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    async destroy() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

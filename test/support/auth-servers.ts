/**
 * Real authorization servers for test/servers: Django OAuth Toolkit and Authlib (Debian's
 * Python packages, run with Debian's /usr/bin/python3) and @node-oauth/oauth2-server, each a
 * fixture in test/servers/fixtures started on a free loopback port with the test's clients,
 * user and token lifetime. A server announces its port on stdout once it listens; GET /__stats
 * counts its token requests by grant type and its OAuth errors by code.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

export type ServerKind = "dot" | "authlib" | "node-oauth";

/** The interpreter with Debian's python3-* packages (a `python3` on PATH may be another one). */
export const DEBIAN_PYTHON = "/usr/bin/python3";
const FIXTURES = join(import.meta.dirname, "..", "servers", "fixtures");
/** How long a server may take to come up (DOT migrates its database first) on a busy machine. */
const START_TIMEOUT_MS = 30_000;

const SERVERS: Record<ServerKind, { command: string; script: string; packages: string; module?: string }> = {
  dot: { command: DEBIAN_PYTHON, script: "dot_server.py", packages: "python3-django-oauth-toolkit", module: "oauth2_provider" },
  authlib: { command: DEBIAN_PYTHON, script: "authlib_server.py", packages: "python3-authlib python3-flask", module: "authlib.integrations.flask_oauth2" },
  "node-oauth": { command: process.execPath, script: "node-oauth-server.mjs", packages: "@node-oauth/oauth2-server (a dev dependency)" },
};

export interface ServerClient {
  id: string;
  secret: string;
  grant: "client_credentials" | "password" | "authorization_code";
  redirect_uri?: string;
}

export interface ServerSpec {
  /** Access token lifetime, seconds. */
  ttl: number;
  user: { username: string; password: string };
  clients: ServerClient[];
}

export interface ServerStats {
  by_grant: Record<string, number>;
  errors: Record<string, number>;
  statuses: Record<string, number>;
}

export interface AuthServer {
  /** http://127.0.0.1:PORT */
  url: string;
  stats(): Promise<ServerStats>;
  close(): Promise<void>;
}

/**
 * Why this server cannot run here (its package is not installed), or undefined when it can:
 * for `describe(..., { skip })`. CI installs the Debian packages (.ci/run).
 */
export function unavailable(kind: ServerKind): string | undefined {
  const server = SERVERS[kind];
  if (!server.module) return undefined; // a dev dependency: always installed
  if (!existsSync(DEBIAN_PYTHON)) return `${kind}: ${DEBIAN_PYTHON} not found (apt-get install ${server.packages})`;
  const probe = spawnSync(DEBIAN_PYTHON, ["-c", `import ${server.module}`], { encoding: "utf8" });
  return probe.status === 0 ? undefined : `${kind}: the Debian package is missing (apt-get install ${server.packages})`;
}

/** Starts the server and resolves once it listens; close() stops it and removes its folder. */
export async function startAuthServer(kind: ServerKind, spec: ServerSpec): Promise<AuthServer> {
  const server = SERVERS[kind];
  const dir = await mkdtemp(join(tmpdir(), `tokensmith-${kind}-`));
  const child = spawn(server.command, [join(FIXTURES, server.script)], {
    cwd: dir,
    env: { ...process.env, SERVER_SPEC: JSON.stringify(spec), SERVER_DIR: dir, PYTHONDONTWRITEBYTECODE: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const stop = () => stopChild(child).then(() => rm(dir, { recursive: true, force: true }));
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${kind} did not start within ${START_TIMEOUT_MS} ms\n${stderr}`)), START_TIMEOUT_MS);
      child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`${kind} exited (${code}) before listening\n${stderr}`))));
      createInterface({ input: child.stdout }).on("line", (line) => {
        try {
          const event = JSON.parse(line) as { ready?: boolean; port?: number };
          if (event.ready && event.port) (clearTimeout(timer), resolve(event.port));
        } catch {
          // not the readiness line
        }
      });
    });
  } catch (err) {
    await stop();
    throw err;
  }
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    async stats() {
      const res = await fetch(`${url}/__stats`);
      return (await res.json()) as ServerStats;
    },
    close: stop,
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

/** Token requests and errors between two snapshots of a server's stats. */
export function statsDelta(before: ServerStats, after: ServerStats): ServerStats {
  const diff = (a: Record<string, number>, b: Record<string, number>) =>
    Object.fromEntries(Object.keys(b).map((k) => [k, b[k] - (a[k] ?? 0)]).filter(([, n]) => n !== 0));
  return { by_grant: diff(before.by_grant, after.by_grant), errors: diff(before.errors, after.errors), statuses: diff(before.statuses, after.statuses) };
}

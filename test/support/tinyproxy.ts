import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * A real forward proxy for the proxy tests: Debian's tinyproxy, run in the foreground with its
 * own config in a temporary folder, listening on 127.0.0.1 at a free port, logging every
 * request line ("GET http://…" for http targets, "CONNECT host:port" for https ones) to a file
 * the test reads. Everything stays on loopback: it forwards only to the tests' own servers.
 */
export interface Tinyproxy {
  /** http://127.0.0.1:PORT (with `user:password@` when started with `auth`). */
  url: string;
  port: number;
  /** The request lines logged so far, e.g. "CONNECT 127.0.0.1:4431 HTTP/1.1". */
  requests(): Promise<string[]>;
}

/** A port nothing listens on (for a refusing proxy), or one to start a server on. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

/** How long tinyproxy may take to listen. */
const START_TIMEOUT_MS = 10_000;

export async function startTinyproxy(t: TestContext, options: { auth?: { user: string; password: string } } = {}): Promise<Tinyproxy> {
  const dir = await mkdtemp(join(tmpdir(), "tokensmith-proxy-"));
  const log = join(dir, "tinyproxy.log");
  const port = await freePort();
  const lines = [
    `Port ${port}`,
    "Listen 127.0.0.1",
    "Timeout 30",
    `LogFile "${log}"`,
    // Connect: one line per request and per connection, nothing else.
    "LogLevel Connect",
    "MaxClients 50",
    "Allow 127.0.0.1",
    "DisableViaHeader Yes",
    // No ConnectPort line: CONNECT to any port (the tests' HTTPS servers use free ports).
    ...(options.auth ? [`BasicAuth ${options.auth.user} ${options.auth.password}`] : []),
  ];
  await writeFile(join(dir, "tinyproxy.conf"), `${lines.join("\n")}\n`);
  const child = spawn("tinyproxy", ["-d", "-c", join(dir, "tinyproxy.conf")], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  t.after(async () => {
    child.kill();
    await rm(dir, { recursive: true, force: true });
  });
  const started = Date.now();
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() - started > START_TIMEOUT_MS) throw new Error(`tinyproxy did not start: ${stderr}`);
    await sleep(50);
  }
  const auth = options.auth ? `${options.auth.user}:${options.auth.password}@` : "";
  return {
    url: `http://${auth}127.0.0.1:${port}`,
    port,
    async requests() {
      const text = await readFile(log, "utf8");
      return [...text.matchAll(/Request \(file descriptor \d+\): (.+)$/gm)].map((m) => m[1].trim());
    },
  };
}

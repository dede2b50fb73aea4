import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { writeFile } from "node:fs/promises";
import { stringify } from "yaml";
import { demoConfig } from "../../src/demo/config.js";
import type { DemoServer } from "../../src/demo/server.js";
import { BIN, cliProcess, hasStackTrace } from "../support/cli.js";
import { tmpDir, withDemoServer } from "../support/demo.js";
import { assertMatchesSchema } from "../support/json-schema.js";

/**
 * `tokensmith proxy NAME [--port P] [--no-auth]` (SPEC §3, §5; issue 14 item 2): the built
 * binary in a child process, called with curl-like raw requests.
 */

const START_TIMEOUT_MS = 15_000;

async function config(t: TestContext, patch?: (conn: any) => void): Promise<{ server: DemoServer; path: string; dir: string }> {
  const server = await withDemoServer(t);
  const dir = await tmpDir(t);
  const cfg: any = demoConfig(server, { dir: join(dir, "store") });
  cfg.connections["demo-service"].base_url = server.apiUrl;
  patch?.(cfg.connections["demo-service"]);
  const path = join(dir, "tokensmith.yaml");
  await writeFile(path, stringify(cfg), { mode: 0o600 });
  return { server, path, dir };
}

/** `tokensmith proxy ARGS` until it prints its address; stopped with SIGTERM when the test ends. */
async function startProxy(t: TestContext, home: string, args: string[]): Promise<{ url: string; key?: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, "proxy", ...args], { env: { PATH: process.env.PATH, HOME: home }, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  t.after(async () => {
    child.kill("SIGTERM");
    await exited;
  });
  let stderr = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start: ${stderr}`)), START_TIMEOUT_MS);
    child.stderr.on("data", (d) => {
      stderr += d;
      if (/listening on .+\n/.test(stderr) && (args.includes("--no-auth") ? /no key/.test(stderr) : /key: \S+\n/.test(stderr))) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", () => reject(new Error(`exited: ${stderr}`)));
  });
  const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)![1];
  return { url, key: /\nkey: (\S+)\n/.exec(`\n${stderr}`)?.[1], stderr };
}

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    })
      .on("error", reject)
      .end();
  });
}

test("tokensmith proxy NAME: the connection's base_url at the proxy's root, behind a key printed at start; Host checked", async (t) => {
  const { server, path, dir } = await config(t);
  const proxy = await startProxy(t, dir, ["demo-service", "--config", path]);
  assert.ok(proxy.key && proxy.key.length >= 20, proxy.stderr);
  const ok = await get(`${proxy.url}/whoami`, { authorization: `Bearer ${proxy.key}` });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.client_id, server.clients.basic.clientId);
  const page = await get(`${proxy.url}/items?page=3`, { authorization: `Bearer ${proxy.key}` });
  assert.deepEqual(page.body.items.map((i: { id: number }) => i.id), [11, 12]);
  const none = await get(`${proxy.url}/whoami`);
  assert.equal(none.status, 401);
  assert.equal(none.body.error.code, "unauthorized");
  assert.match(none.body.error.hint, /Authorization: Bearer <key> with the key `tokensmith proxy` printed at start/);
  const rebound = await get(`${proxy.url}/whoami`, { authorization: `Bearer ${proxy.key}`, host: `evil.example:${new URL(proxy.url).port}` });
  assert.equal(rebound.status, 403);
  assert.equal(rebound.body.error.code, "host_not_allowed");
  assertMatchesSchema("gateway-error", none.body);
  assertMatchesSchema("gateway-error", rebound.body);
});

test("tokensmith proxy --no-auth: no key, with a warning that every local process can call the API as you", async (t) => {
  const { path, dir } = await config(t);
  const proxy = await startProxy(t, dir, ["demo-service", "--config", path, "--no-auth"]);
  assert.equal(proxy.key, undefined);
  assert.match(proxy.stderr, /every process on this machine/);
  assert.equal((await get(`${proxy.url}/whoami`)).status, 200);
});

test("tokensmith proxy: a connection without base_url, an unknown one and a bad --port are exit 2, no stack trace", async (t) => {
  const { path, dir } = await config(t, (conn) => delete conn.base_url);
  const env = { HOME: dir };
  const nobase = await cliProcess(["proxy", "demo-service", "--config", path], { env });
  assert.equal(nobase.code, 2, nobase.stderr);
  assert.match(nobase.stderr, /base_url/);
  assert.ok(!hasStackTrace(nobase.stderr));
  const unknown = await cliProcess(["proxy", "nope", "--config", path], { env });
  assert.equal(unknown.code, 2, unknown.stderr);
  const port = await cliProcess(["proxy", "demo-service", "--config", path, "--port", "http"], { env });
  assert.equal(port.code, 2);
  assert.match(port.stderr, /--port/);
});

test("tokensmith proxy --port on a busy port: exit 2, port_in_use, a hint about `tokensmith proxy` and --port only", async (t) => {
  const { path, dir } = await config(t);
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => holder.close(() => resolve())));
  const port = (holder.address() as AddressInfo).port;
  const busy = await cliProcess(["proxy", "demo-service", "--config", path, "--port", String(port), "--json"], { env: { HOME: dir } });
  assert.equal(busy.code, 2, busy.stderr);
  const error = JSON.parse(busy.stdout).error;
  assert.equal(error.code, "port_in_use");
  assert.match(error.hint, /`tokensmith proxy`/);
  assert.match(error.hint, /--port/);
  assert.doesNotMatch(`${error.hint} ${error.field ?? ""}`, /serve|gateway\.port/);
});

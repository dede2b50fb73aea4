import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { stringify } from "yaml";
import { demoConfig } from "../../src/demo/config.js";
import type { DemoServer } from "../../src/demo/server.js";
import { startGateway } from "../../src/gateway/start.js";
import { TokenSmith } from "../../src/tokensmith.js";
import { cliProcess } from "../support/cli.js";
import { tmpDir, withDemoServer } from "../support/demo.js";
import { freePort, startTinyproxy, type Tinyproxy } from "../support/tinyproxy.js";
import { createTestCa } from "../support/tls-ca.js";
import { rejection } from "./support.js";
import { startMtlsServer } from "./mtls-server.js";

/**
 * Proxies (SPEC §1 `proxy`, §2.13; issue 12 item 1), through a real forward proxy (tinyproxy)
 * whose log shows every request it forwarded: `HTTP_PROXY` / `HTTPS_PROXY` carry every request
 * tokensmith makes, `NO_PROXY` hosts and `proxy: none` go direct, `proxy:` overrides the
 * environment, and a proxy that refuses connections is a `network_error` naming it. NO_PROXY is
 * always set explicitly: the targets are loopback servers, which defaults often exempt.
 */

async function demoTokenSmith(t: TestContext, server: DemoServer, env: NodeJS.ProcessEnv, patch: (config: any) => void = () => {}) {
  const dir = await tmpDir(t);
  const config: any = demoConfig(server, { dir: join(dir, "store") });
  patch(config);
  const ts = await TokenSmith.load({ config, env, clock: { now: () => Date.now(), sleep: async () => {} } });
  t.after(() => ts.close());
  return ts;
}

/** The request lines the proxy logged for `origin` (http targets: "METHOD URL"; https: "CONNECT host:port"). */
async function seen(proxy: Tinyproxy, origin: string): Promise<string[]> {
  const host = new URL(origin).host;
  return (await proxy.requests()).filter((line) => line.includes(host)).map((line) => line.replace(/ HTTP\/1\.[01]$/, ""));
}

test("HTTP_PROXY carries every request of a connection: discovery, token, API calls, pagination and revocation", async (t) => {
  const proxy = await startTinyproxy(t);
  const server = await withDemoServer(t);
  const ts = await demoTokenSmith(t, server, { HTTP_PROXY: proxy.url, NO_PROXY: "" }, (config) => {
    // Discovery instead of configured endpoints, so the metadata request is made too.
    const conn = config.connections["demo-service"];
    delete conn.token_url;
    delete conn.revocation_url;
  });
  const conn = ts.connection("demo-service");
  assert.equal((await conn.fetch(`${server.apiUrl}/whoami`)).status, 200);
  let items = 0;
  for await (const _ of conn.paginate(`${server.apiUrl}/items?per_page=10`, { jsonpath: "$.items[*]" })) items++;
  assert.ok(items > 10);
  await conn.revoke();

  const lines = await seen(proxy, server.url);
  const paths = lines.map((line) => line.replace(server.url, ""));
  assert.ok(paths.includes("GET /.well-known/openid-configuration"), paths.join("\n"));
  assert.ok(paths.includes(`POST ${new URL(server.endpoints.token).pathname}`), paths.join("\n"));
  assert.ok(paths.includes("GET /api/whoami"), paths.join("\n"));
  assert.ok(paths.some((p) => p.startsWith("GET /api/items?page=2")), paths.join("\n"));
  assert.ok(paths.includes(`POST ${new URL(server.endpoints.revocation).pathname}`), paths.join("\n"));
  // Nothing went around the proxy: the demo server counted exactly the token requests the proxy saw.
  assert.equal(server.stats.tokenRequests, paths.filter((p) => p === `POST ${new URL(server.endpoints.token).pathname}`).length);
});

test("a device login goes through HTTP_PROXY: device authorization and polling", async (t) => {
  const proxy = await startTinyproxy(t);
  const server = await withDemoServer(t, { devicePolling: { interval: 1 } });
  const ts = await demoTokenSmith(t, server, { http_proxy: proxy.url, no_proxy: "" });
  await ts.connection("demo-user").login({ flow: "device", openBrowser: false, onUserCode: (info) => void server.approveDeviceCode(info.userCode) });
  const paths = (await seen(proxy, server.url)).map((line) => line.replace(server.url, ""));
  assert.ok(paths.includes(`POST ${new URL(server.endpoints.deviceAuthorization).pathname}`), paths.join("\n"));
  assert.ok(paths.includes(`POST ${new URL(server.endpoints.token).pathname}`), paths.join("\n"));
});

test("HTTPS_PROXY tunnels https requests with CONNECT, company CA and client certificate included (token and bound API call)", async (t) => {
  const proxy = await startTinyproxy(t);
  const ca = await createTestCa(t);
  const client = await ca.client("billing-client");
  const server = await startMtlsServer(t, ca, { clients: { billing: { method: "tls_client_auth", subjectCn: "billing-client" } } });
  const ts = await TokenSmith.load({
    config: {
      store: { type: "memory" },
      connections: { api: { token_url: server.tokenUrl, client_id: "billing", client_auth: "tls_client_auth", tls: { ca_file: ca.ca.certFile, client_cert: client.certFile, client_key: client.keyFile } } },
    },
    env: { HTTPS_PROXY: proxy.url, NO_PROXY: "" },
  });
  t.after(() => ts.close());
  assert.equal((await ts.connection("api").fetch(`${server.apiUrl}/x`)).status, 200);
  const lines = await seen(proxy, server.url);
  assert.ok(lines.length >= 1 && lines.every((line) => line === `CONNECT ${new URL(server.url).host}`), lines.join("\n"));
});

test("NO_PROXY hosts go direct, and proxy: none goes direct whatever the environment says", async (t) => {
  const proxy = await startTinyproxy(t);
  const server = await withDemoServer(t);
  const exempt = await demoTokenSmith(t, server, { HTTP_PROXY: proxy.url, NO_PROXY: "example.com, 127.0.0.1" });
  assert.equal((await exempt.connection("demo-service").fetch(`${server.apiUrl}/whoami`)).status, 200);
  const none = await demoTokenSmith(t, server, { HTTP_PROXY: proxy.url, NO_PROXY: "" }, (config) => (config.connections["demo-service"].proxy = "none"));
  assert.equal((await none.connection("demo-service").fetch(`${server.apiUrl}/whoami`)).status, 200);
  assert.deepEqual(await seen(proxy, server.url), []);
  assert.equal(server.stats.tokenRequests, 2);
});

test("proxy: in the config overrides the environment, per connection and at the top level", async (t) => {
  const proxy = await startTinyproxy(t);
  const server = await withDemoServer(t);
  const refusing = `http://127.0.0.1:${await freePort()}`;
  const own = await demoTokenSmith(t, server, { HTTP_PROXY: refusing, NO_PROXY: "" }, (config) => (config.connections["demo-service"].proxy = proxy.url));
  assert.ok(await own.connection("demo-service").accessToken());
  const top = await demoTokenSmith(t, server, {}, (config) => (config.proxy = proxy.url));
  assert.ok(await top.connection("demo-password").accessToken());
  assert.equal((await seen(proxy, server.url)).length, 2);
});

test("a refusing proxy is a network_error naming the proxy, not the target's host, and its credentials are never shown", async (t) => {
  const port = await freePort();
  const password = "proxy-pa55word-secret";
  const ts = await TokenSmith.load({
    config: { store: { type: "memory" }, connections: { api: { token_url: "https://auth.corp.invalid/oauth/token", client_id: "billing", client_secret: "client-secret-value" } } },
    env: { HTTPS_PROXY: `http://svc-user:${password}@127.0.0.1:${port}`, NO_PROXY: "" },
    clock: { now: () => Date.now(), sleep: async () => {} },
  });
  t.after(() => ts.close());
  const err = await rejection(ts.connection("api").accessToken());
  assert.equal(err.code, "network_error");
  assert.match(err.message, new RegExp(`cannot reach the proxy http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\) for https://auth\\.corp\\.invalid/oauth/token`));
  assert.doesNotMatch(err.message, /ENOTFOUND|not found/);
  const shown = JSON.stringify({ message: err.message, hint: err.hint, json: err.toJSON() });
  assert.ok(!shown.includes(password) && !shown.includes("svc-user:"), shown);
});

test("a proxy that wants credentials: they go in the proxy URL (a secret, never printed); without them the error says so", async (t) => {
  const auth = { user: "svc", password: "tunnel-pa55word" };
  const proxy = await startTinyproxy(t, { auth });
  const ca = await createTestCa(t);
  const client = await ca.client("billing-client");
  const server = await startMtlsServer(t, ca, { clients: { billing: { method: "tls_client_auth", subjectCn: "billing-client" } } });
  const connection = { token_url: server.tokenUrl, client_id: "billing", client_auth: "tls_client_auth", tls: { ca_file: ca.ca.certFile, client_cert: client.certFile, client_key: client.keyFile } };
  const load = async (proxyUrl: string) => {
    const ts = await TokenSmith.load({ config: { store: { type: "memory" }, proxy: proxyUrl, connections: { api: connection } }, env: {}, clock: { now: () => Date.now(), sleep: async () => {} } });
    t.after(() => ts.close());
    return ts.connection("api");
  };
  assert.ok(await (await load(proxy.url)).accessToken());
  const err = await rejection((await load(`http://127.0.0.1:${proxy.port}`)).accessToken());
  assert.equal(err.code, "network_error");
  assert.match(err.message, /the proxy http:\/\/127\.0\.0\.1:\d+ refused to connect to 127\.0\.0\.1:\d+ \(proxy authentication required/);
});

test("tokensmith call and the gateway go through HTTP_PROXY too", async (t) => {
  const proxy = await startTinyproxy(t);
  const server = await withDemoServer(t);
  const dir = await tmpDir(t);
  const config: any = demoConfig(server, { dir: join(dir, "store") });
  config.gateway = { port: 0, api_keys: [{ key: "gateway-key-0123456789abcdef" }] };
  const configPath = join(dir, "tokensmith.yaml");
  await writeFile(configPath, stringify(config), { mode: 0o600 });
  const env = { HTTP_PROXY: proxy.url, NO_PROXY: "" };

  const called = await cliProcess(["--config", configPath, "call", "demo-service", `${server.apiUrl}/whoami`], { env });
  assert.equal(called.code, 0, called.stderr);
  const afterCall = (await seen(proxy, server.url)).map((line) => line.replace(server.url, ""));
  assert.ok(afterCall.includes("GET /api/whoami"), afterCall.join("\n"));
  assert.ok(afterCall.includes(`POST ${new URL(server.endpoints.token).pathname}`), afterCall.join("\n"));

  const gateway = await startGateway({ config: configPath, env });
  t.after(() => gateway.close());
  const res = await fetch(`${gateway.url}/v1/connections/demo-password/token`, { headers: { authorization: "Bearer gateway-key-0123456789abcdef" } });
  assert.equal(res.status, 200);
  const tokens = (await seen(proxy, server.url)).filter((line) => line.endsWith(new URL(server.endpoints.token).pathname));
  assert.equal(tokens.length, 2);
});

test("a proxy setting that is not an http(s) URL or none is refused at load, naming the field and never the URL", async () => {
  const err = await rejection(
    TokenSmith.load({ config: { connections: { api: { token_url: "https://auth.example.com/token", client_id: "x", client_secret: "y", proxy: "socks5://svc:hidden-pa55@proxy:1080" } } }, env: {} }),
  );
  assert.equal(err.code, "config_invalid");
  assert.match(err.message, /connections\.api\.proxy/);
  assert.match(err.message, /must be an http:\/\/ or https:\/\/ proxy URL, or none/);
  assert.ok(!JSON.stringify(err.toJSON()).includes("hidden-pa55"));
});

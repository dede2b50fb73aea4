import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdir, readFile, rename, stat, symlink, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { errorResponse } from "../../src/gateway/errors.js";
import { startGateway } from "../../src/gateway/start.js";
import { TokenSmithError, type ErrorCode } from "../../src/errors.js";
import { cli } from "../support/cli.js";
import { assertMatchesSchema, assertSnakeCase } from "../support/json-schema.js";
import { FULL_KEY, LIMITED_KEY, withDemoGateway } from "./support.js";

/** A raw request, so that Host and Origin can be anything. */
function raw(url: string, method: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("the gateway's API", () => {
  it("refuses requests without a key or with a wrong key with 401, and answers /healthz to anyone", async (t) => {
    const { api } = await withDemoGateway(t);
    const none = await api("/v1/connections", { key: null });
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, "unauthorized");
    assert.match(none.headers.get("www-authenticate") ?? "", /^Bearer/);
    const wrong = await api("/v1/connections/demo-service/token", { key: "not-the-right-key-at-all" });
    assert.equal(wrong.status, 401);
    assert.equal((await api("/metrics", { key: null })).status, 401);
    const health = await api("/healthz", { key: null });
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { status: "ok" });
    assertMatchesSchema("gateway-health", health.body);
  });

  it("lets a key limited to some connections see only those, and answers 403 for any other", async (t) => {
    const { api } = await withDemoGateway(t);
    const list = await api("/v1/connections", { key: LIMITED_KEY });
    assert.deepEqual(list.body.map((c: any) => c.connection), ["demo-service"]);
    assertMatchesSchema("gateway-connections", list.body);
    assertSnakeCase(list.body);
    const token = await api("/v1/connections/demo-service/token", { key: LIMITED_KEY });
    assert.equal(token.status, 200);
    assertMatchesSchema("token", token.body);
    assert.equal(token.body.connection, "demo-service");
    const other = await api("/v1/connections/demo-jwt/token", { key: LIMITED_KEY });
    assert.equal(other.status, 403);
    assert.equal(other.body.error.code, "forbidden");
    assertMatchesSchema("gateway-error", other.body);
    assert.equal(other.body.error.connection, "demo-jwt");
    assert.equal((await api("/v1/connections/demo-jwt/refresh", { key: LIMITED_KEY, method: "POST" })).status, 403);
    assert.equal((await api("/v1/connections/no-such-thing/token", { key: LIMITED_KEY })).status, 403, "a limited key does not learn which names exist");
    assert.equal((await api("/v1/connections/no-such-thing/token")).status, 404);
  });

  it("answers 403 to a Host header that does not name its address (DNS rebinding), and accepts localhost", async (t) => {
    const { gateway } = await withDemoGateway(t);
    const port = new URL(gateway.url).port;
    const rebound = await raw(`${gateway.url}/healthz`, "GET", { host: `attacker.example:${port}` });
    assert.equal(rebound.status, 403);
    assert.equal(JSON.parse(rebound.body).error.code, "host_not_allowed");
    assert.equal((await raw(`${gateway.url}/healthz`, "GET", { host: "127.0.0.1" })).status, 403, "the port must match too");
    assert.equal((await raw(`${gateway.url}/healthz`, "GET", { host: `localhost:${port}` })).status, 200);
  });

  it("never sends a CORS header, not even to a preflight", async (t) => {
    const { gateway } = await withDemoGateway(t);
    const origin = { origin: "https://evil.example", "access-control-request-method": "GET", "access-control-request-headers": "authorization" };
    for (const method of ["GET", "OPTIONS"]) {
      const res = await raw(`${gateway.url}/v1/connections`, method, { ...origin, host: new URL(gateway.url).host });
      assert.ok(res.status >= 400, `${method} without credentials fails`);
      assert.deepEqual(Object.keys(res.headers).filter((h) => h.startsWith("access-control-")), [], method);
    }
  });

  it("answers the token route with the same JSON as `tokensmith token --json`", async (t) => {
    const { api, configPath } = await withDemoGateway(t);
    const res = await api("/v1/connections/demo-service/token?min_ttl=60");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("cache-control"), "no-store");
    const fromCli = await cli(["token", "demo-service", "--json", "--config", configPath]);
    assert.equal(fromCli.code, 0, fromCli.stderr);
    const expected = JSON.parse(fromCli.stdout);
    assert.deepEqual(Object.keys(res.body), Object.keys(expected));
    assert.ok(Math.abs(res.body.expires_in - expected.expires_in) <= 1);
    assert.deepEqual({ ...res.body, expires_in: 0 }, { ...expected, expires_in: 0 }, "the CLI reads the token the gateway stored");
    assert.equal(res.body.scope, "api:read");
    assert.equal((await api("/v1/connections/demo-service/token?min_ttl=soon")).body.error.code, "usage_error");
  });

  it("refreshes, tests and revokes a connection", async (t) => {
    const { api, server } = await withDemoGateway(t);
    const first = (await api("/v1/connections/demo-service/token")).body.access_token;
    const refreshed = await api("/v1/connections/demo-service/refresh", { method: "POST" });
    assert.equal(refreshed.status, 200);
    assert.equal(refreshed.body.token_requests, 2);
    assertMatchesSchema("gateway-connection", refreshed.body);
    assertSnakeCase(refreshed.body);
    assert.equal(refreshed.body.state, "valid");
    assert.equal(refreshed.body.access_token, undefined, "a refresh answers the status, not the token");
    assert.notEqual((await api("/v1/connections/demo-service/token")).body.access_token, first);
    assert.equal(server.stats.tokenRequests, 2);

    const tested = await api("/v1/connections/demo-service/test", { method: "POST" });
    assert.equal(tested.status, 200);
    assert.equal(tested.body.ok, true, JSON.stringify(tested.body));
    assertMatchesSchema("test", tested.body);
    assert.deepEqual(tested.body.steps.map((s: any) => s.step), ["settings", "endpoints", "token", "api"]);

    const revoked = await api("/v1/connections/demo-service/revoke", { method: "POST" });
    assert.equal(revoked.status, 200);
    assert.deepEqual(revoked.body.revoked, ["access_token"]);
    assertMatchesSchema("revoke", revoked.body);
    assert.equal(revoked.body.connection, "demo-service");
    assert.equal(revoked.body.dropped, true);
    assert.equal((await api("/v1/connections/demo-service")).body.state, "none");
    assert.equal((await api("/v1/connections/demo-service/revoke?only=everything", { method: "POST" })).status, 400);
    assert.equal((await api("/v1/connections/demo-service/refresh")).status, 405, "actions need POST");
  });

  it("maps failures to 409, 502, 504 and 404 with {error: {code, message, hint}}", async (t) => {
    const port = await closedPort();
    const { api, server } = await withDemoGateway(t, {
      patch: (config) => {
        config.connections["wrong-secret"] = { ...config.connections["demo-service"], client_secret: "not-the-secret" };
        config.connections.unreachable = { grant: "client_credentials", token_url: `http://127.0.0.1:${port}/token`, client_id: "c", client_secret: "s" };
      },
    });
    const cases: [string, number, string][] = [
      ["demo-user", 409, "reauthorization_required"],
      ["wrong-secret", 502, "oauth_error"],
      ["unreachable", 504, "network_error"],
      ["not-configured", 404, "config_invalid"],
    ];
    for (const [name, status, code] of cases) {
      const res = await api(`/v1/connections/${name}/token`);
      assert.equal(res.status, status, name);
      assert.equal(res.body.error.code, code, name);
      assertMatchesSchema("gateway-error", res.body);
      assertMatchesSchema("error", res.body);
      assert.equal(res.body.error.connection, name, "the error names its connection");
      assert.equal(typeof res.body.error.message, "string");
      assert.ok("hint" in res.body.error);
    }
    const wrong = await api("/v1/connections/wrong-secret/token");
    assert.equal(wrong.body.error.error, "invalid_client");
    assert.ok(!JSON.stringify(wrong.body).includes(server.clients.basic.clientSecret));
  });

  it("maps lock and store failures to 503 and unexpected ones to 500", () => {
    const status = (code: ErrorCode) => errorResponse(new TokenSmithError(code, "x")).status;
    assert.equal(status("lock_timeout"), 503);
    assert.equal(status("store_error"), 503);
    assert.equal(status("timeout"), 504);
    assert.equal(status("unexpected"), 500);
    assert.equal(errorResponse(new Error("boom")).status, 500);
  });

  it("generates its key when none is configured, in a 0600 file beside the store, and reuses it after a restart", async (t) => {
    const { gateway, api, configPath } = await withDemoGateway(t, { keys: false });
    assert.ok(gateway.keyFile?.endsWith("/store/gateway.key"), gateway.keyFile);
    const st = await stat(gateway.keyFile!);
    assert.equal(st.mode & 0o777, 0o600);
    const { readFile } = await import("node:fs/promises");
    const key = (await readFile(gateway.keyFile!, "utf8")).trim();
    assert.ok(key.length >= 40);
    assert.equal((await api("/v1/connections", { key })).status, 200);
    assert.equal((await api("/v1/connections", { key: null })).status, 401, "never open");
    const again = await startGateway({ config: configPath, env: {} });
    t.after(() => again.close());
    assert.equal(again.keyFile, gateway.keyFile);
    assert.equal((await fetch(`${again.url}/v1/connections`, { headers: { authorization: `Bearer ${key}` } })).status, 200);
  });

  it("lists a state sealed under a replaced store key as its own unreadable row, like `tokensmith status` (§2.15)", async (t) => {
    const first = randomBytes(32).toString("base64");
    const { api, gateway, configPath } = await withDemoGateway(t, { patch: (config) => (config.store.key = first) });
    assert.equal((await api("/v1/connections/demo-service/token")).status, 200);
    await gateway.close();
    const config = await readFile(configPath, "utf8");
    await writeFile(configPath, config.replace(first, randomBytes(32).toString("base64")), { mode: 0o600 });
    const again = await startGateway({ config: configPath, env: {} });
    t.after(() => again.close());
    const res = await fetch(`${again.url}/v1/connections`, { headers: { authorization: `Bearer ${FULL_KEY}` } });
    assert.equal(res.status, 200);
    const rows = (await res.json()) as { connection: string; state: string; problem: string | null }[];
    const byName = Object.fromEntries(rows.map((r) => [r.connection, r]));
    assert.equal(byName["demo-service"].state, "unreadable");
    assert.match(byName["demo-service"].problem ?? "", /--discard-unreadable/);
    assert.ok(rows.filter((r) => r.connection !== "demo-service").every((r) => r.state !== "unreadable"));
    const fromCli = JSON.parse((await cli(["status", "--json", "--config", configPath])).stdout) as { connection: string; state: string }[];
    assert.deepEqual(
      fromCli.map((r) => [r.connection, r.state]),
      rows.map((r) => [r.connection, r.state]),
    );
  });

  it("answers 503 store_error, never a connection without a login, when the store cannot be read (§2.9), as `tokensmith status` fails", async (t) => {
    const { api, dir, configPath } = await withDemoGateway(t);
    assert.equal((await api("/v1/connections/demo-service/token")).status, 200);
    // The stored record is replaced by a symbolic link: the file store refuses to read it (store_error).
    const records = join(dir, "store", "records");
    for (const folder of await readdir(records)) {
      for (const name of (await readdir(join(records, folder))).filter((n) => n.startsWith("gen-"))) {
        const path = join(records, folder, name);
        await rename(path, `${path}.moved`);
        await symlink(`${path}.moved`, path);
      }
    }
    for (const path of ["/v1/connections", "/v1/connections/demo-service"]) {
      const res = await api(path);
      assert.equal(res.status, 503, `${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, "store_error");
    }
    const fromCli = await cli(["status", "--json", "--config", configPath]);
    assert.equal(fromCli.code, 4);
    assert.match(fromCli.stdout + fromCli.stderr, /symbolic link/);
  });
});

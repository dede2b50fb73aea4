import assert from "node:assert/strict";
import { request } from "node:http";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import { startProxy } from "../../src/gateway/proxy-server.js";
import { startTinyproxy, type Tinyproxy } from "../support/tinyproxy.js";
import { createTestCa } from "../support/tls-ca.js";
import { startMtlsServer } from "../http/mtls-server.js";
import { FULL_KEY } from "./support.js";
import { GZIP_DOCUMENT, proxyGateway } from "./proxy-support.js";

/**
 * The data gateway's proxy route over the connection's own transport (SPEC §5 with §1 `proxy`
 * and `tls`): a real forward proxy (tinyproxy, whose log shows what it forwarded), the test
 * CA and a client certificate (mutual TLS, a certificate-bound token). Bodies pass through as
 * they came: a compressed answer reaches the client compressed, `Content-Encoding` kept.
 */

/** One raw request: the body's bytes exactly as they arrived. */
function raw(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** The request lines the proxy logged that name `host` ("GET http://host/…", "CONNECT host"). */
async function forwarded(proxy: Tinyproxy, host: string): Promise<string[]> {
  return (await proxy.requests()).filter((line) => line.includes(host)).map((line) => line.replace(/ HTTP\/1\.[01]$/, ""));
}

test("proxy: a connection's proxy setting carries its API requests through the forward proxy, a gzip answer passed on compressed", async (t) => {
  const tinyproxy = await startTinyproxy(t);
  const { gateway, testApi } = await proxyGateway(t, (config) => {
    config.connections.bulk.proxy = tinyproxy.url;
  });
  const res = await raw(`${gateway.url}/proxy/bulk/gzip?page=2`, { authorization: `Bearer ${FULL_KEY}`, "accept-encoding": "gzip" });
  assert.equal(res.status, 200);
  assert.equal(res.headers["content-encoding"], "gzip");
  assert.equal(Number(res.headers["content-length"]), res.body.length);
  assert.deepEqual(JSON.parse(gunzipSync(res.body).toString("utf8")), GZIP_DOCUMENT);
  const host = new URL(testApi.url).host;
  assert.deepEqual(await forwarded(tinyproxy, host), [`GET http://${host}/v1/gzip?page=2`]);
  assert.match(testApi.seen.at(-1)?.authorization ?? "", /^Bearer /);
});

test("proxy: an https API behind HTTPS_PROXY, trusted through tls.ca_file, called with the client certificate its token is bound to", async (t) => {
  const tinyproxy = await startTinyproxy(t);
  const ca = await createTestCa(t);
  const client = await ca.client("billing-client");
  const server = await startMtlsServer(t, ca, { clients: { billing: { method: "tls_client_auth", subjectCn: "billing-client" } } });
  const connection = {
    token_url: server.tokenUrl,
    client_id: "billing",
    client_auth: "tls_client_auth",
    base_url: server.apiUrl,
    tls: { ca_file: ca.ca.certFile, client_cert: client.certFile, client_key: client.keyFile },
  };
  for (const [env, through] of [
    [{ HTTPS_PROXY: tinyproxy.url, NO_PROXY: "" }, true],
    [{ HTTPS_PROXY: tinyproxy.url, NO_PROXY: "127.0.0.1" }, false],
  ] as const) {
    const before = (await forwarded(tinyproxy, new URL(server.url).host)).length;
    const proxy = await startProxy({ name: "api", config: { store: { type: "memory" }, connections: { api: connection } }, env });
    t.after(() => proxy.close());
    const res = await raw(`${proxy.url}/reports/1`, { authorization: `Bearer ${proxy.key}` });
    assert.equal(res.status, 200, res.body.toString("utf8"));
    // The API accepted the token over the certificate it is bound to.
    assert.deepEqual(JSON.parse(res.body.toString("utf8")), { client_id: "billing", path: "/api/reports/1" });
    const lines = (await forwarded(tinyproxy, new URL(server.url).host)).slice(before);
    if (through) assert.ok(lines.length >= 2 && lines.every((line) => line === `CONNECT ${new URL(server.url).host}`), lines.join("\n"));
    else assert.deepEqual(lines, []);
  }
});

test("proxy: a forward proxy that cannot be reached is a 504 network_error naming the proxy, and nothing reaches the API", async (t) => {
  const { gateway, testApi } = await proxyGateway(t, (config) => {
    config.connections.bulk.proxy = "http://127.0.0.1:9";
  });
  const res = await raw(`${gateway.url}/proxy/bulk/small`, { authorization: `Bearer ${FULL_KEY}` });
  assert.equal(res.status, 504);
  const error = JSON.parse(res.body.toString("utf8")).error;
  assert.equal(error.code, "network_error");
  assert.match(error.message, /cannot reach the proxy http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\)/);
  assert.equal(testApi.seen.length, 0);
});

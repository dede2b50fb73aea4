import assert from "node:assert/strict";
import { request } from "node:http";
import { test } from "node:test";
import { FULL_KEY, LIMITED_KEY, signIn } from "./support.js";
import { proxyGateway } from "./proxy-support.js";
import { assertMatchesSchema } from "../support/json-schema.js";

/**
 * The data gateway's route (SPEC §5 `ANY /proxy/NAME/PATH`, issue 14 item 1), driven with
 * Node's own HTTP client so headers arrive exactly as sent. The real-client tests (curl,
 * Python) are in proxy-clients.test.ts.
 */

/** One raw request to the gateway (headers exactly as given). */
function raw(url: string, init: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? "GET", headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

const auth = (key = FULL_KEY) => ({ authorization: `Bearer ${key}` });

test("proxy: the token goes in, the gateway key, cookies and hop-by-hop headers stay out; Set-Cookie and the API's hop headers stay out of the answer", async (t) => {
  const { gateway, testApi } = await proxyGateway(t);
  const res = await raw(`${gateway.url}/proxy/bulk/headers?q=1&r=two`, {
    headers: { ...auth(), cookie: "tokensmith_session_1=x; other=y", connection: "keep-alive, x-client-hop", "x-client-hop": "1", "x-kept": "yes", "proxy-authorization": "Basic eA==" },
  });
  assert.equal(res.status, 200);
  const seen = JSON.parse(res.body).headers as Record<string, string>;
  assert.match(seen.authorization, /^Bearer /);
  assert.ok(!seen.authorization.includes(FULL_KEY), "the gateway key reached the API");
  assert.equal(seen.cookie, undefined);
  assert.equal(seen["x-client-hop"], undefined);
  assert.equal(seen["proxy-authorization"], undefined);
  assert.equal(seen["x-kept"], "yes");
  assert.equal(seen.host, new URL(testApi.url).host);
  assert.equal(testApi.seen.at(-1)?.path, "/v1/headers");
  assert.equal(res.headers["set-cookie"], undefined, "the API's cookie would be set on the gateway's origin");
  assert.equal(res.headers["x-api-hop"], undefined);
  assert.equal(res.headers["x-api-kept"], "yes");
});

test("proxy: the connection's header setting is honoured, and a client header of that name is replaced", async (t) => {
  const { gateway } = await proxyGateway(t, (config) => {
    config.connections.bulk.header = { name: "X-Api-Token", value: "Token {token}" };
  });
  const res = await raw(`${gateway.url}/proxy/bulk/headers`, { headers: { ...auth(), "x-api-token": "client's own" } });
  assert.equal(res.status, 200);
  const seen = JSON.parse(res.body).headers as Record<string, string>;
  assert.match(seen["x-api-token"], /^Token \S{10,}$/);
  assert.notEqual(seen["x-api-token"], "client's own");
  assert.equal(seen.authorization, undefined, "the gateway key reached the API");
});

test("proxy: a paginated GET and a JSON POST reach the demo API with a valid token", async (t) => {
  const { gateway } = await proxyGateway(t);
  const page = await raw(`${gateway.url}/proxy/demo-service/items?page=2&per_page=5`, { headers: auth() });
  assert.equal(page.status, 200);
  assert.deepEqual(JSON.parse(page.body).items.map((i: { id: number }) => i.id), [6, 7, 8, 9, 10]);
  // The Link header into base_url comes back as the proxy's path; the body is the API's, untouched.
  assert.equal(page.headers.link, '</proxy/demo-service/items?page=3&per_page=5>; rel="next"');
  assert.match(JSON.parse(page.body).next, /^http:\/\/127\.0\.0\.1:\d+\/api\/items\?page=3/);
  const post = await raw(`${gateway.url}/proxy/demo-service/echo`, { method: "POST", headers: { ...auth(), "content-type": "application/json" }, body: JSON.stringify({ a: 1 }) });
  assert.equal(post.status, 200);
  assert.deepEqual(JSON.parse(post.body), { method: "POST", content_type: "application/json", body: '{"a":1}' });
});

test("proxy: auth is a gateway key allowed the connection: none 401, a limited key 403, a session 401, an unknown connection 404", async (t) => {
  const { gateway } = await proxyGateway(t);
  const none = await raw(`${gateway.url}/proxy/bulk/small`);
  assert.equal(none.status, 401);
  // The hint names only what works here: a key (a dashboard session is refused on this route).
  assert.match(JSON.parse(none.body).error.hint, /Authorization: Bearer <key>/);
  assert.doesNotMatch(JSON.parse(none.body).error.hint, /sign in|one-time|session/i);
  const limited = await raw(`${gateway.url}/proxy/bulk/small`, { headers: auth(LIMITED_KEY) });
  assert.equal(limited.status, 403);
  assert.equal(JSON.parse(limited.body).error.code, "forbidden");
  assert.equal((await raw(`${gateway.url}/proxy/demo-service/whoami`, { headers: auth(LIMITED_KEY) })).status, 200);
  const { cookie } = await signIn(gateway);
  const session = await raw(`${gateway.url}/proxy/bulk/small`, { headers: { cookie } });
  assert.equal(session.status, 401);
  assert.equal(JSON.parse(session.body).error.hint, JSON.parse(none.body).error.hint);
  const unknown = await raw(`${gateway.url}/proxy/nope/x`, { headers: auth() });
  assert.equal(unknown.status, 404);
  assert.equal(JSON.parse(unknown.body).error.code, "config_invalid");
  assertMatchesSchema("gateway-error", JSON.parse(unknown.body));
  assertMatchesSchema("gateway-error", JSON.parse(limited.body));
});

test("proxy: 401 to a held body invalidates exactly that token, refreshes once and replays; counted as a recovery", async (t) => {
  const { gateway, testApi, server, api } = await proxyGateway(t);
  assert.equal((await raw(`${gateway.url}/proxy/bulk/small`, { headers: auth() })).status, 200);
  const first = testApi.seen.at(-1)!.authorization!;
  testApi.refused.add(first.slice("Bearer ".length));
  const before = server.stats.tokenRequests;
  const res = await raw(`${gateway.url}/proxy/bulk/echo`, { method: "POST", headers: { ...auth(), "content-type": "text/plain" }, body: "replay me" });
  assert.equal(res.status, 200);
  assert.equal(JSON.parse(res.body).body, "replay me");
  assert.equal(server.stats.tokenRequests - before, 1);
  const [refused, replayed] = testApi.seen.slice(-2);
  assert.equal(refused.authorization, first);
  assert.notEqual(replayed.authorization, first);
  const metrics = (await api("/metrics")).body as string;
  assert.match(metrics, /tokensmith_proxy_401_recoveries_total\{connection="bulk"\} 1/);
  assert.match(metrics, /tokensmith_proxy_requests_total\{connection="bulk",class="2xx"\} 2/);
  assert.match(metrics, /tokensmith_proxy_upstream_latency_seconds_count\{connection="bulk"\} 3/);
  const listed = (await api("/v1/connections")).body as { connection: string; served: { proxy: { requests: number; recoveries: number; bytes_up: number } } }[];
  const bulk = listed.find((c) => c.connection === "bulk")!;
  assert.equal(bulk.served.proxy.requests, 2);
  assert.equal(bulk.served.proxy.recoveries, 1);
  assert.equal(bulk.served.proxy.bytes_up, "replay me".length * 2);
});

test("proxy: a body over 1 MiB streams; its 401 is passed through and the refused token invalidated for the next request", async (t) => {
  const { gateway, testApi } = await proxyGateway(t);
  assert.equal((await raw(`${gateway.url}/proxy/bulk/small`, { headers: auth() })).status, 200);
  const first = testApi.seen.at(-1)!.authorization!;
  testApi.refused.add(first.slice("Bearer ".length));
  const big = Buffer.alloc(1024 * 1024 + 1, 7);
  const res = await raw(`${gateway.url}/proxy/bulk/upload`, { method: "PUT", headers: auth(), body: big });
  assert.equal(res.status, 401);
  assert.match(String(res.headers["www-authenticate"]), /invalid_token/);
  const next = await raw(`${gateway.url}/proxy/bulk/upload`, { method: "PUT", headers: auth(), body: big });
  assert.equal(next.status, 200);
  assert.equal(JSON.parse(next.body).bytes, big.length);
  assert.notEqual(testApi.seen.at(-1)!.authorization, first);
});

test("proxy: api_retry retries 503 for an idempotent request, then passes the answer through", async (t) => {
  const { gateway, testApi } = await proxyGateway(t, (config) => {
    config.connections.bulk.api_retry = { max: 2, on: [503] };
  });
  const res = await raw(`${gateway.url}/proxy/bulk/status?code=503`, { headers: auth() });
  assert.equal(res.status, 503);
  assert.equal(testApi.seen.filter((s) => s.path === "/v1/status").length, 3);
});

test("proxy: a redirect into base_url is rewritten to the proxy; one elsewhere goes back as it is and is not followed", async (t) => {
  const { gateway, testApi } = await proxyGateway(t);
  const inside = await raw(`${gateway.url}/proxy/bulk/redirect?to=${encodeURIComponent(`${testApi.url}/v1/small?x=1`)}`, { headers: auth() });
  assert.equal(inside.status, 302);
  assert.equal(inside.headers.location, "/proxy/bulk/small?x=1");
  const relative = await raw(`${gateway.url}/proxy/bulk/redirect?to=small`, { headers: auth() });
  assert.equal(relative.headers.location, "/proxy/bulk/small");
  const elsewhere = "https://elsewhere.example/landing";
  const outside = await raw(`${gateway.url}/proxy/bulk/redirect?to=${encodeURIComponent(elsewhere)}&status=307`, { headers: auth() });
  assert.equal(outside.status, 307);
  assert.equal(outside.headers.location, elsewhere);
  const aboveBase = await raw(`${gateway.url}/proxy/bulk/redirect?to=${encodeURIComponent(`${testApi.url}/landing`)}`, { headers: auth() });
  assert.equal(aboveBase.headers.location, `${testApi.url}/landing`, "a path outside base_url is another API: left as it is");
  assert.equal(testApi.seen.filter((s) => s.path === "/landing").length, 0);
});

test("proxy: errors in the gateway's JSON: no base_url 400 naming the field, allowed_origins 400, API down 504", async (t) => {
  const { gateway, testApi, api: gatewayApi } = await proxyGateway(t, (config, api) => {
    config.connections.nobase = { ...config.connections["demo-service"] };
    delete config.connections.nobase.base_url;
    config.connections.fenced = { ...config.connections.bulk, allowed_origins: ["https://other.example"] };
    config.connections.down = { ...config.connections.bulk, base_url: "http://127.0.0.1:9/v1" };
    void api;
  });
  const nobase = await raw(`${gateway.url}/proxy/nobase/x`, { headers: auth() });
  assert.equal(nobase.status, 400);
  assert.match(JSON.parse(nobase.body).error.message, /no base_url/);
  const fenced = await raw(`${gateway.url}/proxy/fenced/small`, { headers: auth() });
  assert.equal(fenced.status, 400);
  assert.match(JSON.parse(fenced.body).error.hint, /allowed_origins/);
  assert.equal(testApi.seen.length, 0);
  const down = await raw(`${gateway.url}/proxy/down/small`, { headers: auth() });
  assert.equal(down.status, 504);
  assert.equal(JSON.parse(down.body).error.code, "network_error");
  // Every proxy error is the gateway's error document, naming the connection.
  for (const [name, answer] of [["nobase", nobase], ["fenced", fenced], ["down", down]] as const) {
    assertMatchesSchema("gateway-error", JSON.parse(answer.body));
    assert.equal(JSON.parse(answer.body).error.connection, name);
  }
  // Each is an answer the gateway gave itself, counted as such.
  const metrics = (await gatewayApi("/metrics")).body as string;
  for (const name of ["nobase", "fenced", "down"]) assert.match(metrics, new RegExp(`tokensmith_proxy_requests_total\\{connection="${name}",class="error"\\} 1\n`));
});

test("proxy: base_url must be https unless loopback or allow_insecure_http: the config is refused at start, naming the field", async (t) => {
  await assert.rejects(
    proxyGateway(t, (config) => {
      config.connections.plain = { ...config.connections.bulk, base_url: "http://api.example.com/v1" };
    }),
    (err: any) => err.code === "config_invalid" && /connections\.plain\.base_url/.test(err.message) && /allow_insecure_http/.test(err.hint),
  );
  const { gateway } = await proxyGateway(t, (config) => {
    config.connections.plain = { ...config.connections.bulk, base_url: "http://api.invalid/v1", allow_insecure_http: true };
  });
  // Allowed now: the request goes out (and finds no such host).
  assert.equal((await raw(`${gateway.url}/proxy/plain/x`, { headers: auth() })).status, 504);
});

test("proxy: an OAuth failure is 502 oauth_error, before anything reaches the API", async (t) => {
  const { gateway, testApi } = await proxyGateway(t, (config) => {
    config.connections.bulk.client_secret = "wrong-secret-0123456789";
  });
  const res = await raw(`${gateway.url}/proxy/bulk/small`, { headers: auth() });
  assert.equal(res.status, 502);
  assert.equal(JSON.parse(res.body).error.code, "oauth_error");
  assert.equal(testApi.seen.length, 0);
});

test("proxy: a client that goes away mid-download ends the API's response too (nothing keeps streaming into memory)", async (t) => {
  const { gateway, testApi } = await proxyGateway(t);
  await new Promise<void>((resolve, reject) => {
    const req = request(`${gateway.url}/proxy/bulk/download?bytes=${1024 * 1024 * 1024}`, { headers: auth() }, (res) => {
      assert.equal(res.statusCode, 200);
      res.once("data", () => {
        req.destroy();
        resolve();
      });
    });
    req.on("error", () => {});
    req.end();
    setTimeout(() => reject(new Error("no data")), 10_000).unref();
  });
  for (let i = 0; i < 100 && testApi.cut === 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(testApi.cut, 1);
});

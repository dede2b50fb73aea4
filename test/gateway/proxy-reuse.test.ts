import assert from "node:assert/strict";
import { request, type ServerResponse } from "node:http";
import { describe, it, test } from "node:test";
import { FULL_KEY } from "./support.js";
import { proxyGateway } from "./proxy-support.js";
import { Exchange } from "../../src/gateway/proxy-upstream.js";

/**
 * The proxy's kept-alive connections to the API (SPEC §5): a socket the API closed (it answered
 * a large POST early, without reading the body, then hung up) is never the next request's undoing.
 */

function post(url: string, body: Buffer | string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // A fresh connection to the gateway each time: only the gateway's own to the API are kept alive here.
    const req = request(url, { method: "POST", agent: false, headers: { authorization: `Bearer ${FULL_KEY}`, "content-type": "application/octet-stream" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

test("proxy: after the API answers a 500 KB POST early and drops the socket, the next small POSTs succeed", async (t) => {
  const { gateway } = await proxyGateway(t);
  for (let round = 0; round < 3; round++) {
    const early = await post(`${gateway.url}/proxy/bulk/early`, Buffer.alloc(500 * 1024, 1));
    assert.equal(early.status, 500, early.body);
    assert.match(early.body, /refused early/);
    const next = await post(`${gateway.url}/proxy/bulk/echo`, "small");
    assert.equal(next.status, 200, `round ${round}: ${next.body}`);
    assert.equal(JSON.parse(next.body).body, "small");
  }
});

test("proxy: a streamed body (over 1 MiB) cut by a dropped socket is not sent again: 504 network_error, and the next request succeeds", async (t) => {
  const { gateway, api, testApi } = await proxyGateway(t);
  assert.equal((await post(`${gateway.url}/proxy/bulk/early`, Buffer.alloc(500 * 1024, 1))).status, 500);
  // The gateway answers 504 while the client may still be sending: the client may see a reset instead.
  const streamed = await post(`${gateway.url}/proxy/bulk/upload`, Buffer.alloc(1024 * 1024 + 1, 2)).catch((err: NodeJS.ErrnoException) => err);
  if (!(streamed instanceof Error)) {
    assert.equal(streamed.status, 504, streamed.body);
    assert.equal(JSON.parse(streamed.body).error.code, "network_error");
  } else assert.equal(streamed.code, "ECONNRESET", String(streamed.stack));
  // A resend would have reached the API on a fresh socket.
  assert.equal(testApi.seen.filter((s) => s.path === "/v1/upload").length, 0);
  const next = await post(`${gateway.url}/proxy/bulk/echo`, "after");
  assert.equal(next.status, 200, next.body);
  const metrics = (await api("/metrics")).body as string;
  assert.match(metrics, /tokensmith_proxy_requests_total\{connection="bulk",class="error"\} 1\n/);
});

describe("an API answer that breaks between its head and its forwarding", () => {
  it("fails the forwarding (the gateway answers its error) instead of leaving the client waiting", async () => {
    let answered: unknown;
    const exchange = new Exchange((a) => (answered = a), () => assert.fail("rejected before the head"));
    exchange.onConnect(() => {});
    exchange.onHeaders(200, [Buffer.from("content-type"), Buffer.from("application/json")], () => assert.fail("resumed a broken request"), "OK");
    assert.equal(answered, exchange);
    // The socket drops while the proxy awaits a refresh or a dropped token.
    exchange.onError(Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }));
    let headWritten = false;
    const res = { destroyed: false, writeHead: () => void (headWritten = true) } as unknown as ServerResponse;
    await assert.rejects(exchange.forward(res, [], () => {}), /other side closed/);
    assert.equal(headWritten, false, "nothing was sent: the gateway's JSON error can still be");
  });
});

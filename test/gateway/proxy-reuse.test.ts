import assert from "node:assert/strict";
import { request } from "node:http";
import { test } from "node:test";
import { FULL_KEY } from "./support.js";
import { proxyGateway } from "./proxy-support.js";

/**
 * The proxy's kept-alive connections to the API (SPEC §5): a socket the API closed (it answered
 * a large POST early, without reading the body, then hung up) is never the next request's undoing.
 */

function post(url: string, body: Buffer | string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers: { authorization: `Bearer ${FULL_KEY}`, "content-type": "application/octet-stream" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
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

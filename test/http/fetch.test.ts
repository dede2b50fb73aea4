import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TokenSmithError } from "../../src/errors.js";
import { adapterSuite } from "./adapter-suite.js";
import { fetchClient } from "./clients.js";
import { demoSetup, json, recordingServer, redirect } from "./support.js";

adapterSuite(fetchClient);

describe("connection.fetch", () => {
  it("takes retry options per call: on without api_retry, off with `false`, POST only when asked", async (t) => {
    const { connection, sleeps } = await demoSetup(t);
    let busy = 0;
    const api = await recordingServer(t, (_req, res) => (busy-- > 0 ? json(res, 503, {}) : json(res, 200, {})));
    busy = 1;
    assert.equal((await connection.fetch(`${api.url}/a`, { retry: { max: 1 } })).status, 200);
    busy = 1;
    assert.equal((await connection.fetch(`${api.url}/b`, { retry: false })).status, 503);
    busy = 1;
    assert.equal((await connection.fetch(`${api.url}/c`, { method: "POST", body: "{}", retry: { max: 1 } })).status, 503);
    busy = 1;
    assert.equal((await connection.fetch(`${api.url}/d`, { method: "POST", body: "{}", retry: { max: 1, nonIdempotent: true } })).status, 200);
    assert.deepEqual(api.seen.map((s) => s.path), ["/a", "/a", "/b", "/c", "/d", "/d"]);
    assert.equal(sleeps.length, 2); // backoff without Retry-After, on the injected clock
  });

  it("does not replay a streamed body after a 401, but drops the refused token so the next call gets a fresh one", async (t) => {
    const { server, connection } = await demoSetup(t);
    const refused = await connection.accessToken();
    await server.revokeAccessToken(refused);
    const body = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode("{}")), c.close()) });
    const res = await connection.fetch(`${server.apiUrl}/echo`, { method: "POST", body, duplex: "half" } as RequestInit);
    assert.equal(res.status, 401);
    assert.equal(server.stats.tokenRequests, 1);
    assert.notEqual(await connection.accessToken(), refused);
    assert.equal((await connection.fetch(`${server.apiUrl}/whoami`)).status, 200);
    assert.equal(server.stats.tokenRequests, 2);
    assert.equal(server.stats.api.byOutcome.invalid_token, 1);
  });

  it("hands back the redirect itself with redirect: manual, and fails with redirect: error", async (t) => {
    const { connection } = await demoSetup(t);
    const api = await recordingServer(t, (_req, res) => redirect(res, "/elsewhere"));
    const res = await connection.fetch(`${api.url}/x`, { redirect: "manual" });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "/elsewhere");
    await assert.rejects(connection.fetch(`${api.url}/x`, { redirect: "error" }), (err: unknown) => err instanceof TokenSmithError && err.code === "http_error");
  });

  it("turns a POST into a GET without body headers after a 303", async (t) => {
    const { connection } = await demoSetup(t);
    const api = await recordingServer(t, (req, res) => (req.path === "/form" ? redirect(res, "/done", 303) : json(res, 200, {})));
    await connection.fetch(`${api.url}/form`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    const done = api.seen[1];
    assert.equal(done.method, "GET");
    assert.equal(done.headers["content-type"], undefined);
    assert.match(done.headers.authorization ?? "", /^Bearer /);
  });

  it("reports an unreachable API as network_error naming the connection", async (t) => {
    const { connection } = await demoSetup(t);
    const api = await recordingServer(t, (_req, res) => res.destroy());
    await assert.rejects(connection.fetch(`${api.url}/x`), (err: unknown) => err instanceof TokenSmithError && err.code === "network_error" && err.connection === "demo-service");
  });
});

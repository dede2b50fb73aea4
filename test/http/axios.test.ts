import assert from "node:assert/strict";
import { describe, it } from "node:test";
import axios from "axios";
import { TokenSmithError } from "../../src/errors.js";
import { authorize } from "../../src/http/axios.js";
import { adapterSuite } from "./adapter-suite.js";
import { axiosClient, axiosFetchClient } from "./clients.js";
import { demoSetup, json, recordingServer, redirect } from "./support.js";

adapterSuite(axiosClient);
adapterSuite(axiosFetchClient);

describe("the axios interceptor", () => {
  it("recovers from a 401 also when validateStatus accepts every status", async (t) => {
    const { server, connection } = await demoSetup(t);
    const api = axios.create({ baseURL: server.apiUrl, validateStatus: () => true });
    t.after(authorize(api, connection));
    await server.revokeAccessToken(await connection.accessToken());
    const res = await api.get("/whoami");
    assert.equal(res.status, 200);
    assert.equal(server.stats.tokenRequests, 2);
  });

  it("takes retry options per request: `false` turns api_retry off, nonIdempotent retries a POST", async (t) => {
    const { connection } = await demoSetup(t, { patch: (conn) => (conn.api_retry = { max: 1 }) });
    let busy = 0;
    const server = await recordingServer(t, (_req, res) => (busy-- > 0 ? json(res, 503, {}, { "retry-after": "0" }) : json(res, 200, {})));
    const api = axios.create({ baseURL: server.url, validateStatus: () => true });
    t.after(authorize(api, connection));
    busy = 1;
    assert.equal((await api.get("/a", { tokensmith: { retry: false } })).status, 503);
    busy = 1;
    assert.equal((await api.post("/b", { x: 1 }, { tokensmith: { retry: { nonIdempotent: true } } })).status, 200);
    assert.deepEqual(server.seen.map((s) => `${s.method} ${s.path} ${s.body}`), ["GET /a ", 'POST /b {"x":1}', 'POST /b {"x":1}']);
  });

  it("stops adding the token once ejected", async (t) => {
    const { connection } = await demoSetup(t);
    const server = await recordingServer(t, (_req, res) => json(res, 200, {}));
    const api = axios.create({ baseURL: server.url });
    const eject = authorize(api, connection);
    await api.get("/with");
    eject();
    await api.get("/without");
    assert.deepEqual(server.seen.map((s) => !!s.headers.authorization), [true, false]);
  });

  it("refuses, before sending, an adapter or transport whose redirects it cannot see, and says what to use", async (t) => {
    const { connection } = await demoSetup(t);
    const server = await recordingServer(t, (_req, res) => json(res, 200, {}));
    const api = axios.create({ baseURL: server.url });
    t.after(authorize(api, connection));
    let custom = 0;
    const refused = (err: unknown) => err instanceof TokenSmithError && err.code === "usage_error" && /cannot see the redirects/.test(err.message) && /"http" adapter/.test(err.hint ?? "");
    await assert.rejects(api.get("/a", { adapter: async (config) => ({ data: "", status: 200, statusText: "OK", headers: {}, config, request: (custom++, {}) }) }), refused);
    await assert.rejects(api.get("/b", { adapter: ["xhr"] }), refused);
    await assert.rejects(api.get("/c", { transport: { request: () => assert.fail("the custom transport was used") } }), refused);
    assert.equal(custom, 0);
    assert.equal(server.seen.length, 0);
    // The first adapter axios can use decides, as in axios: xhr is not there in Node, so http.
    assert.equal((await api.get("/d", { adapter: ["xhr", "http"] })).status, 200);
  });

  it("follows the fetch adapter's redirects through the caller's own env.fetch, keeping redirect: manual and maxRedirects: 0", async (t) => {
    const { connection } = await demoSetup(t);
    const server = await recordingServer(t, (req, res) => (req.path === "/from" ? redirect(res, "/to") : json(res, 200, { path: req.path })));
    const hops: string[] = [];
    const theirs = (input: string | URL | Request, init?: RequestInit) => {
      hops.push(String(input instanceof Request ? input.url : input));
      return fetch(input, init);
    };
    const api = axios.create({ baseURL: server.url, adapter: "fetch", env: { fetch: theirs }, validateStatus: () => true });
    t.after(authorize(api, connection));
    assert.deepEqual((await api.get("/from")).data, { path: "/to" });
    assert.deepEqual(hops, [`${server.url}/from`, `${server.url}/to`]);
    assert.equal((await api.get("/from", { maxRedirects: 0 })).status, 302);
    assert.equal(server.seen.length, 3);
    assert.ok(server.seen.every((s) => s.headers.authorization?.startsWith("Bearer ")));
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import axios from "axios";
import { authorize } from "../../src/http/axios.js";
import { adapterSuite } from "./adapter-suite.js";
import { axiosClient, axiosFetchClient } from "./clients.js";
import { demoSetup, json, recordingServer } from "./support.js";

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
});

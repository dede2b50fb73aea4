import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { Agent, Client, fetch as undiciFetch, request } from "undici";
import { TokenSmithError } from "../../src/errors.js";
import { authorize } from "../../src/http/undici.js";
import { adapterSuite } from "./adapter-suite.js";
import { undiciClient, undiciFetchClient, undiciFetchWrongOrderClient, undiciWrongOrderClient } from "./clients.js";
import { redirectMatrix } from "./redirect-matrix.js";
import { demoSetup, json, recordingServer, redirect } from "./support.js";

adapterSuite(undiciClient);
adapterSuite(undiciFetchClient);
redirectMatrix(undiciWrongOrderClient, { refuses: true });
redirectMatrix(undiciFetchWrongOrderClient);

describe("the undici interceptor", () => {
  it("keeps the token off cross-origin hops when undici's fetch follows the redirects", async (t) => {
    const { connection } = await demoSetup(t);
    const other = await recordingServer(t, (req, res) => (req.path === "/back" ? redirect(res, `${api.url}/seen`) : json(res, 200, {})));
    const api = await recordingServer(t, (req, res) => {
      if (req.path === "/same") return redirect(res, "/seen");
      if (req.path === "/bounce") return redirect(res, `${other.url}/back`);
      json(res, 200, {});
    });
    const agent = new Agent();
    t.after(() => agent.close());
    const dispatcher = agent.compose(authorize(connection));
    await (await undiciFetch(`${api.url}/same`, { dispatcher })).arrayBuffer();
    await (await undiciFetch(`${api.url}/bounce`, { dispatcher })).arrayBuffer();
    const carried = [...api.seen, ...other.seen].map((s) => `${s.path}:${s.headers.authorization ? "token" : "none"}`);
    assert.deepEqual(carried.sort(), ["/back:none", "/bounce:token", "/same:token", "/seen:none", "/seen:token"].sort());
  });

  it("works on a Client, which dispatches without an origin, unless allowed_origins must be checked", async (t) => {
    const api = await recordingServer(t, (_req, res) => json(res, 200, {}));
    const { connection } = await demoSetup(t);
    const client = new Client(api.url);
    t.after(() => client.close());
    const res = await client.compose(authorize(connection)).request({ path: "/x", method: "GET" });
    await res.body.text();
    assert.match(api.seen[0].headers.authorization ?? "", /^Bearer /);

    const limited = await demoSetup(t, { patch: (conn) => (conn.allowed_origins = [api.origin]) });
    await assert.rejects(client.compose(authorize(limited.connection)).request({ path: "/x", method: "GET" }), (err: unknown) => err instanceof TokenSmithError && err.code === "usage_error");
  });

  it("does not replay a streamed body after a 401, and takes retry options for all its requests", async (t) => {
    const { server, connection } = await demoSetup(t);
    const agent = new Agent();
    t.after(() => agent.close());
    await server.revokeAccessToken(await connection.accessToken());
    const streamed = await request(`${server.apiUrl}/echo`, { dispatcher: agent.compose(authorize(connection)), method: "POST", body: Readable.from(["{}"]) });
    await streamed.body.text();
    assert.equal(streamed.statusCode, 401);
    assert.equal(server.stats.tokenRequests, 1);

    let busy = 1;
    const api = await recordingServer(t, (_req, res) => (busy-- > 0 ? json(res, 429, {}, { "retry-after": "0" }) : json(res, 200, {})));
    const retried = await request(`${api.url}/x`, { dispatcher: agent.compose(authorize(connection, { retry: { max: 1 } })) });
    await retried.body.text();
    assert.equal(retried.statusCode, 200);
    assert.equal(api.seen.length, 2);
  });
});

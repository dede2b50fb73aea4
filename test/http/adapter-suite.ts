import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TokenSmithError } from "../../src/errors.js";
import type { ClientKind } from "./clients.js";
import { redirectMatrix } from "./redirect-matrix.js";
import { demoSetup, json, recordingServer, redirect } from "./support.js";

/**
 * One behaviour for every way of making an authorized call (SPEC §2.11, §2.13): each adapter's
 * test file runs this suite with its own client. The API is the demo server's, which accepts
 * only valid tokens that oidc-provider issued; recording servers stand in where a test needs
 * redirects, retries or a second origin.
 */
export function adapterSuite(kind: ClientKind): void {
  redirectMatrix(kind);
  describe(`${kind.name}: the shared adapter suite`, () => {
    it("sends the token in the header and the API accepts it, with one token request", async (t) => {
      const { server, connection } = await demoSetup(t);
      const client = kind.create(t, connection);
      const res = await client.request(`${server.apiUrl}/whoami`);
      assert.equal(res.status, 200);
      assert.equal(JSON.parse(res.text).client_id, server.clients.basic.clientId);
      assert.equal((await client.request(`${server.apiUrl}/whoami`)).status, 200);
      assert.equal(server.stats.tokenRequests, 1);
    });

    it("recovers from an access token revoked at the server with exactly one refresh", async (t) => {
      const { server, connection } = await demoSetup(t);
      const client = kind.create(t, connection);
      await server.revokeAccessToken(await connection.accessToken());
      const res = await client.request(`${server.apiUrl}/whoami`);
      assert.equal(res.status, 200);
      assert.equal(server.stats.tokenRequests, 2);
      assert.equal(server.stats.api.byOutcome.invalid_token, 1);
    });

    it("turns 50 concurrent 401s into exactly one refresh, and all 50 calls succeed", async (t) => {
      const { server, connection } = await demoSetup(t);
      const client = kind.create(t, connection);
      await server.revokeAccessToken(await connection.accessToken());
      const results = await Promise.all(Array.from({ length: 50 }, () => client.request(`${server.apiUrl}/whoami`)));
      assert.deepEqual(new Set(results.map((r) => r.status)), new Set([200]));
      assert.equal(server.stats.api.byOutcome.invalid_token, 50);
      assert.equal(server.stats.tokenRequests, 2);
    });

    it(kind.streamsBodies ? "hands a 401 to a POST back as it is, since its streamed body cannot be replayed" : "replays a POST body with the fresh token after a 401", async (t) => {
      const { server, connection } = await demoSetup(t);
      const client = kind.create(t, connection);
      await server.revokeAccessToken(await connection.accessToken());
      const res = await client.request(`${server.apiUrl}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"n":1}' });
      if (kind.streamsBodies) {
        assert.equal(res.status, 401);
        assert.equal(server.stats.tokenRequests, 1);
        return;
      }
      assert.equal(res.status, 200);
      assert.equal(JSON.parse(res.text).body, '{"n":1}');
      assert.equal(server.stats.tokenRequests, 2);
    });

    it("does not refresh again when the fresh token gets 401 too, on this call or the next", async (t) => {
      const { server, connection } = await demoSetup(t);
      const api = await recordingServer(t, (_req, res) => json(res, 401, { error: "invalid_token" }, { "www-authenticate": 'Bearer error="invalid_token"' }));
      const client = kind.create(t, connection);
      assert.equal((await client.request(`${api.url}/x`)).status, 401);
      assert.equal(server.stats.tokenRequests, 2);
      assert.equal(api.seen.length, 2);
      assert.equal((await client.request(`${api.url}/x`)).status, 401);
      assert.equal(server.stats.tokenRequests, 2);
      assert.equal(api.seen.length, 3);
    });

    it("remembers a dead token in the store: another instance gets its 401 without a token request", async (t) => {
      const { server, connection, another } = await demoSetup(t);
      const api = await recordingServer(t, (_req, res) => json(res, 401, { error: "invalid_token" }, { "www-authenticate": 'Bearer error="invalid_token"' }));
      assert.equal((await kind.create(t, connection).request(`${api.url}/x`)).status, 401);
      assert.equal(server.stats.tokenRequests, 2);
      const res = await kind.create(t, await another()).request(`${api.url}/x`);
      assert.equal(res.status, 401);
      assert.equal(server.stats.tokenRequests, 2, "the dead token drove no refresh in the other instance");
      assert.equal(api.seen.length, 3);
    });

    it("refreshes as usual once a dead token has expired, and gives the new token its one retry", async (t) => {
      const { server, connection, another } = await demoSetup(t);
      const api = await recordingServer(t, (_req, res) => json(res, 401, { error: "invalid_token" }, { "www-authenticate": 'Bearer error="invalid_token"' }));
      assert.equal((await kind.create(t, connection).request(`${api.url}/x`)).status, 401);
      const later = await another({ clockOffsetMs: 2 * 3600_000 });
      assert.equal((await kind.create(t, later).request(`${server.apiUrl}/whoami`)).status, 200);
      assert.equal(server.stats.tokenRequests, 3, "the expired token was refreshed");
      assert.equal((await kind.create(t, later).request(`${api.url}/x`)).status, 401);
      assert.equal(server.stats.tokenRequests, 4, "the new token, refused, had its one refresh");
      assert.equal(api.seen.length, 4);
    });

    it("never refreshes on 403 insufficient_scope", async (t) => {
      const { server, connection } = await demoSetup(t);
      const client = kind.create(t, connection);
      const res = await client.request(`${server.apiUrl}/admin`);
      assert.equal(res.status, 403);
      assert.equal(server.stats.tokenRequests, 1);
    });

    it("never refreshes on a 401 whose challenge says insufficient_scope", async (t) => {
      const { server, connection } = await demoSetup(t);
      const api = await recordingServer(t, (_req, res) => json(res, 401, {}, { "www-authenticate": 'Bearer realm="x", error="insufficient_scope", scope="admin"' }));
      const client = kind.create(t, connection);
      assert.equal((await client.request(`${api.url}/x`)).status, 401);
      assert.equal(server.stats.tokenRequests, 1);
      assert.equal(api.seen.length, 1);
    });

    for (const header of [undefined, { name: "X-Api-Token", value: "{token}" }]) {
      const named = header ? `a custom ${header.name} header` : "the Authorization header";
      it(`keeps ${named} on a same-origin redirect, drops it cross-origin, and keeps it dropped back on the origin`, async (t) => {
        const { connection } = await demoSetup(t, { patch: (conn) => header && (conn.header = header) });
        const name = (header?.name ?? "authorization").toLowerCase();
        const other = await recordingServer(t, (req, res) => {
          if (req.path === "/back") return redirect(res, `${api.url}/seen`);
          json(res, 200, { seen: req.headers[name] ?? null });
        });
        const api = await recordingServer(t, (req, res) => {
          if (req.path === "/same") return redirect(res, "/seen", 307);
          if (req.path === "/cross") return redirect(res, `${other.url}/seen`);
          if (req.path === "/bounce") return redirect(res, `${other.url}/back`);
          json(res, 200, { seen: req.headers[name] ?? null });
        });
        const client = kind.create(t, connection);
        const token = await connection.accessToken();
        const expected = header ? token : `Bearer ${token}`;

        assert.equal(JSON.parse((await client.request(`${api.url}/same`)).text).seen, expected);
        assert.equal(JSON.parse((await client.request(`${api.url}/cross`)).text).seen, null);
        assert.equal(JSON.parse((await client.request(`${api.url}/bounce`)).text).seen, null);
        // Many at once, redirected to the same URL: every one of those hops goes without it.
        const crowd = await Promise.all(Array.from({ length: 10 }, () => client.request(`${api.url}/cross`)));
        assert.deepEqual(new Set(crowd.map((r) => JSON.parse(r.text).seen)), new Set([null]));
        const leaked = [...api.seen, ...other.seen].filter((r) => r.path !== "/same" && r.path !== "/cross" && r.path !== "/bounce" && r.headers[name]);
        assert.deepEqual(leaked.map((r) => r.path), ["/seen"]); // only the same-origin hop carried it
      });
    }

    it("refuses plain http to a host other than loopback before connecting, naming the URL (SPEC §2.13)", async (t) => {
      // Refused before any connection is made, so the host need not exist (and no traffic leaves loopback).
      const url = "http://api.example.invalid";
      const { connection } = await demoSetup(t);
      await assert.rejects(
        kind.create(t, connection).request(`${url}/x?key=1`),
        (err: unknown) =>
          err instanceof TokenSmithError &&
          err.code === "usage_error" &&
          err.message.includes(`plain http to ${url}/x`) &&
          !err.message.includes("key=1") &&
          /allow_insecure_http: true/.test(err.hint ?? ""),
      );
    });

    it("retries a bare 403 once with the token another instance has stored since, without a refresh (SPEC §2.11)", async (t) => {
      const { server, connection, another } = await demoSetup(t);
      const old = await connection.accessToken();
      let current = old;
      // As Django OAuth Toolkit does: the refresh deleted the old token, and its views answer a bare 403.
      const api = await recordingServer(t, (req, res) => (req.headers.authorization === `Bearer ${current}` ? json(res, 200, { ok: true }) : json(res, 403, { detail: "forbidden" })));
      const client = kind.create(t, connection);
      assert.equal((await client.request(`${api.url}/x`)).status, 200);
      current = (await (await another()).token({ forceRefresh: true })).accessToken;
      assert.notEqual(current, old);

      assert.equal((await client.request(`${api.url}/x`)).status, 200);
      assert.equal(server.stats.tokenRequests, 2, "this instance asked for no token");
      assert.deepEqual(
        api.seen.map((s) => s.headers.authorization),
        [old, old, current].map((token) => `Bearer ${token}`),
      );
      assert.equal((await client.request(`${api.url}/x`)).status, 200);
      assert.equal(api.seen.at(-1)?.headers.authorization, `Bearer ${current}`, "the next call sends the stored token at once");
      assert.equal(api.seen.length, 4);
    });

    it("hands a 403 back as it is when it says insufficient_scope, or when the store holds the token sent", async (t) => {
      const { server, connection, another } = await demoSetup(t);
      const scoped = await recordingServer(t, (_req, res) => json(res, 403, {}, { "www-authenticate": 'Bearer error="insufficient_scope", scope="admin"' }));
      const bare = await recordingServer(t, (_req, res) => json(res, 403, {}));
      const client = kind.create(t, connection);
      assert.equal((await client.request(`${bare.url}/x`)).status, 403);
      assert.equal(bare.seen.length, 1, "the store holds the token sent: nothing to retry with");
      await (await another()).token({ forceRefresh: true });
      assert.equal((await client.request(`${scoped.url}/x`)).status, 403);
      assert.equal(scoped.seen.length, 1, "insufficient_scope: not retried");
      assert.equal(server.stats.tokenRequests, 2);
    });

    it("refuses an origin outside allowed_origins without sending anything", async (t) => {
      const api = await recordingServer(t, (_req, res) => json(res, 200, {}));
      const { server, connection } = await demoSetup(t, { patch: (conn, demo) => (conn.allowed_origins = [demo.issuer]) });
      const client = kind.create(t, connection);
      await assert.rejects(client.request(`${api.url}/x`), (err: unknown) => err instanceof TokenSmithError && err.code === "usage_error" && /allowed_origins/.test(err.hint ?? ""));
      assert.equal(api.seen.length, 0);
      assert.equal((await client.request(`${server.apiUrl}/whoami`)).status, 200);
    });

    it("retries 429 after Retry-After under api_retry, but not a POST", async (t) => {
      const { connection, sleeps } = await demoSetup(t, { patch: (conn) => (conn.api_retry = { max: 2 }) });
      let busy = 1;
      const api = await recordingServer(t, (_req, res) => (busy-- > 0 ? json(res, 429, {}, { "retry-after": "3" }) : json(res, 200, { ok: true })));
      const client = kind.create(t, connection);
      assert.equal((await client.request(`${api.url}/x`)).status, 200);
      assert.deepEqual(sleeps, [3000]);
      assert.equal(api.seen.length, 2);

      busy = 1;
      assert.equal((await client.request(`${api.url}/x`, { method: "POST", body: "{}" })).status, 429);
      assert.equal(api.seen.length, 3);
    });

    it("gives up at once when Retry-After asks for more than the cap, and never retries without api_retry", async (t) => {
      const { connection, sleeps } = await demoSetup(t, { patch: (conn) => (conn.api_retry = { max: 2, on: [503] }) });
      const api = await recordingServer(t, (req, res) => json(res, req.path === "/slow" ? 503 : 429, {}, { "retry-after": req.path === "/slow" ? "3600" : "1" }));
      const client = kind.create(t, connection);
      assert.equal((await client.request(`${api.url}/slow`)).status, 503);
      assert.equal((await client.request(`${api.url}/other`)).status, 429); // 429 is not in `on`
      assert.deepEqual(sleeps, []);
      assert.equal(api.seen.length, 2);
    });
  });
}

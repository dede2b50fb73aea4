import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { describe, it, type TestContext } from "node:test";
import { TokenSmithError } from "../../src/errors.js";
import type { TokenState } from "../../src/lifecycle/state.js";
import { createMemoryStore } from "../../src/store/memory.js";
import { TokenSmith } from "../../src/tokensmith.js";
import { startServer, type Handler, type Recorded } from "../protocol/helpers.js";
import { internals } from "../../src/lifecycle/handle.js";

/**
 * Recovery paths of the lifecycle (SPEC §2.4, §2.6, §2.7) against a real token endpoint on
 * loopback: what a failed or odd refresh leaves in the store, and what callers are told.
 */

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

const form = (req: Recorded) => new URLSearchParams(req.body);

async function setup(t: TestContext, handler: Handler, connection: Record<string, unknown>) {
  const server = await startServer(handler);
  t.after(() => server.close());
  const store = createMemoryStore();
  const config = {
    store: { type: "memory" },
    connections: { api: { token_url: `${server.url}/token`, client_id: "client", client_secret: "secret-value", ...connection } },
  };
  const ts = await TokenSmith.load({ config, env: {}, store, refreshAhead: false });
  t.after(() => ts.close());
  const stored = async () => {
    const { fingerprint } = await internals(ts.connection("api")).setup();
    return (await store.get<TokenState>(`state:${fingerprint}`))?.value;
  };
  return { server, ts, store, stored, api: ts.connection("api") };
}

describe("refresh recovery", () => {
  it("drops a refused refresh token when a password grant falls back and the new answer has none", async (t) => {
    const { server, api, stored } = await setup(
      t,
      (req, res) => {
        const params = form(req);
        if (params.get("grant_type") === "refresh_token") return json(res, 400, { error: "invalid_grant" });
        const first = server.requests.length === 1;
        return json(res, 200, { access_token: `access-${server.requests.length}`, token_type: "Bearer", expires_in: 1, ...(first ? { refresh_token: "first-refresh" } : {}) });
      },
      { grant: "password", username: "user", password: "pass-value", default_ttl: 1 },
    );
    assert.equal(await api.accessToken(), "access-1");
    assert.equal((await stored())?.refreshToken, "first-refresh");
    // The token expires; the refresh is refused and the password grant answers without a refresh token.
    assert.equal(await api.accessToken({ forceRefresh: true }), "access-3");
    assert.equal((await stored())?.refreshToken, undefined, "the refused refresh token is not kept");
    await api.accessToken({ forceRefresh: true });
    const grants = server.requests.map((r) => form(r).get("grant_type"));
    assert.deepEqual(grants, ["password", "refresh_token", "password", "password"], "no refresh with a refused token again");
  });

  for (const error of ["unsupported_grant_type", "invalid_client", "invalid_request"]) {
    it(`runs the password grant again in the same call when a refresh is refused with ${error} (SPEC §2.18)`, async (t) => {
      // A server that issues refresh tokens to the password grant but refuses to honour them.
      const { server, api, stored } = await setup(
        t,
        (req, res) => {
          if (form(req).get("grant_type") === "refresh_token") return json(res, 400, { error, error_description: "refresh is not allowed for this client" });
          const n = server.requests.length;
          return json(res, 200, { access_token: `access-${n}`, token_type: "Bearer", expires_in: 3600, refresh_token: `refresh-${n}` });
        },
        { grant: "password", username: "user", password: "pass-value" },
      );
      assert.equal(await api.accessToken(), "access-1");
      assert.equal(await api.accessToken({ forceRefresh: true }), "access-3", "the refused refresh is followed by the password grant at once");
      assert.equal((await stored())?.refreshToken, "refresh-3", "the refused refresh token is dropped for the new one");
      assert.equal((await stored())?.lastError, undefined, "nothing is remembered: the connection is not stuck");
      // And again: never stuck on a remembered error until logout.
      assert.equal(await api.accessToken({ forceRefresh: true }), "access-5");
      const grants = server.requests.map((r) => form(r).get("grant_type"));
      assert.deepEqual(grants, ["password", "refresh_token", "password", "refresh_token", "password"]);
      assert.deepEqual(form(server.requests[3]!).get("refresh_token"), "refresh-3");
    });
  }

  it("does not fall back from a refresh that fails transiently, even with an OAuth error body", async (t) => {
    let refreshes = 0;
    const { server, api } = await setup(
      t,
      (req, res) => {
        if (form(req).get("grant_type") === "refresh_token") {
          refreshes++;
          return refreshes === 1 ? json(res, 503, { error: "temporarily_unavailable" }, { "retry-after": "0" }) : json(res, 200, { access_token: "refreshed", expires_in: 3600 });
        }
        return json(res, 200, { access_token: `access-${server.requests.length}`, expires_in: 3600, refresh_token: "refresh-1" });
      },
      { grant: "password", username: "user", password: "pass-value" },
    );
    await api.accessToken();
    assert.equal(await api.accessToken({ forceRefresh: true }), "refreshed");
    assert.deepEqual(server.requests.map((r) => form(r).get("grant_type")), ["password", "refresh_token", "refresh_token"]);
  });

  it("refuses a token response nested 5,000 deep as invalid_response and stores nothing (SPEC §2.19)", async (t) => {
    const { api, stored } = await setup(
      t,
      (_req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(`{"access_token":"deep","expires_in":60,"a":${"[".repeat(5000)}${"]".repeat(5000)}}`);
      },
      {},
    );
    const err = await api.accessToken().then(
      () => assert.fail("expected an error"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof TokenSmithError);
    assert.equal(err.code, "invalid_response");
    assert.equal(err.connection, "api");
    assert.equal((await stored())?.accessToken, undefined);
  });

  it("keeps the stored extra fields within 16 KiB across refreshes (SPEC §2.19)", async (t) => {
    const { server, api } = await setup(
      t,
      (_req, res) => json(res, 200, { access_token: `access-${server.requests.length}`, expires_in: 3600, [`field${server.requests.length}`]: "x".repeat(10_000) }),
      {},
    );
    assert.deepEqual(Object.keys((await api.token()).extra), ["field1"]);
    await api.accessToken({ forceRefresh: true });
    assert.deepEqual(Object.keys((await api.token()).extra), ["field2"], "earlier fields go when both would outgrow the bound");
  });

  it("retries a 503 carrying temporarily_unavailable, honouring Retry-After, and remembers nothing", async (t) => {
    let failures = 2;
    const { server, api, stored } = await setup(
      t,
      (_req, res) => {
        if (failures-- > 0) return json(res, 503, { error: "temporarily_unavailable" }, { "retry-after": "0" });
        return json(res, 200, { access_token: "fresh", token_type: "Bearer", expires_in: 3600 });
      },
      { grant: "client_credentials" },
    );
    assert.equal(await api.accessToken(), "fresh");
    assert.equal(server.requests.length, 3);
    assert.equal((await stored())?.lastError, undefined);
  });

  it("says that a refresh timed out when the retried refresh token is refused as reused", async (t) => {
    let rotated = false;
    const { server, api, stored } = await setup(
      t,
      (req, res) => {
        const params = form(req);
        if (params.get("refresh_token") === "seed-token" && !rotated) {
          // The server rotates the token, but its answer comes too late for the client.
          rotated = true;
          setTimeout(() => json(res, 200, { access_token: "lost", refresh_token: "never-seen", expires_in: 60 }), 1_500);
          return;
        }
        return json(res, 400, { error: "invalid_grant", error_description: "refresh token reused" });
      },
      { grant: "refresh_token", refresh_token: "seed-token", timeout: 1 },
    );
    const err = await api.accessToken().then(
      () => assert.fail("expected reauthorization_required"),
      (e: unknown) => e as TokenSmithError,
    );
    assert.ok(err instanceof TokenSmithError);
    assert.equal(err.code, "reauthorization_required");
    assert.match(err.message, /timed out/);
    assert.match(err.hint ?? "", /tokensmith login api/);
    assert.equal(server.requests.length, 2, "one timed-out refresh, one retry with the same token");
    const state = await stored();
    assert.equal(state?.refreshToken, "seed-token", "the refresh token is kept, flagged");
    assert.equal(state?.reauth?.afterTimeout, true);
    // Later callers get the same explanation without a request.
    await assert.rejects(api.accessToken(), (e: TokenSmithError) => e.code === "reauthorization_required" && /timed out/.test(e.message));
    assert.equal(server.requests.length, 2);
  });
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { demoConfig } from "../../src/demo/config.js";
import type { DemoServer } from "../../src/demo/server.js";
import { minimumTokenRequests } from "../../src/lifecycle/timing.js";
import { TokenSmith } from "../../src/tokensmith.js";
import { callApi, tmpDir, withDemoServer } from "../support/demo.js";

/** A TokenSmith on the demo server's config, with a file store in a temp folder. */
async function load(server: DemoServer, dir: string, patch: (config: any) => void = () => {}) {
  const config: any = demoConfig(server, { dir: join(dir, "store") });
  patch(config);
  const ts = await TokenSmith.load({ config, env: {} });
  return ts;
}

describe("the library against the demo authorization server", () => {
  for (const [name, auth] of [
    ["demo-service", "basic"],
    ["demo-jwt", "private_key_jwt"],
    ["demo-post", "post"],
  ] as const) {
    it(`gets a client_credentials token with ${auth} client authentication that the API accepts, once`, async (t) => {
      const server = await withDemoServer(t);
      const ts = await load(server, await tmpDir(t), (config) => {
        config.connections["demo-post"] = {
          ...config.connections["demo-service"],
          client_id: server.clients.post.clientId,
          client_secret: server.clients.post.clientSecret,
          client_auth: "post",
        };
      });
      t.after(() => ts.close());
      const token = await ts.connection(name).accessToken();
      assert.equal((await callApi(server, "/whoami", token)).status, 200);
      assert.equal(await ts.connection(name).accessToken(), token);
      assert.equal(server.stats.tokenRequests, 1);
    });
  }

  it("makes exactly one token request for 200 concurrent callers on an empty cache", async (t) => {
    const server = await withDemoServer(t);
    const ts = await load(server, await tmpDir(t));
    t.after(() => ts.close());
    const tokens = await Promise.all(Array.from({ length: 200 }, () => ts.connection("demo-service").accessToken()));
    assert.equal(new Set(tokens).size, 1);
    assert.equal(server.stats.tokenRequests, 1);
  });

  it("stays at the minimum number of token requests over 10 s of 2-second tokens and never hands out an expired token", async (t) => {
    const server = await withDemoServer(t, { accessTokenTtl: 2 });
    const ts = await load(server, await tmpDir(t));
    t.after(() => ts.close());
    const billing = ts.connection("demo-service");
    const started = Date.now();
    let expiredHandedOut = 0;
    let apiRejected = 0;
    let calls = 0;
    while (Date.now() - started < 10_000) {
      // Checked as each caller receives its token: handing out an expired one is the failure.
      const infos = await Promise.all(
        Array.from({ length: 20 }, () =>
          billing.token().then((info) => {
            if (info.expiresAt!.getTime() <= Date.now()) expiredHandedOut++;
            return info;
          }),
        ),
      );
      calls += infos.length;
      if (calls % 400 === 0 && (await callApi(server, "/whoami", infos[0].accessToken)).status !== 200) apiRejected++;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const minimum = minimumTokenRequests(10_000, 2_000);
    assert.equal(expiredHandedOut, 0);
    assert.equal(apiRejected, 0);
    assert.ok(server.stats.tokenRequests <= minimum, `${server.stats.tokenRequests} token requests, minimum ${minimum}`);
  });

  it("keeps a rotating refresh chain alive through 50 refreshes driven by concurrent callers", async (t) => {
    const server = await withDemoServer(t, { accessTokenTtl: 60 });
    const ts = await load(server, await tmpDir(t));
    t.after(() => ts.close());
    const user = ts.connection("demo-password");
    await user.accessToken();
    for (let round = 0; round < 50; round++) {
      const tokens = await Promise.all(Array.from({ length: 10 }, () => user.accessToken({ forceRefresh: true })));
      assert.equal(new Set(tokens).size, 1, "concurrent callers share one refresh");
    }
    assert.equal(server.stats.byOutcome.invalid_grant ?? 0, 0);
    assert.equal(server.stats.refreshReuseDetected, 0);
    assert.equal(server.stats.byGrant.refresh_token, 50);
    assert.equal((await callApi(server, "/whoami", await user.accessToken())).status, 200);
  });

  it("recovers from a revoked access token in fetch with exactly one refresh", async (t) => {
    const server = await withDemoServer(t);
    const ts = await load(server, await tmpDir(t));
    t.after(() => ts.close());
    const service = ts.connection("demo-service");
    const first = await service.accessToken();
    await server.revokeAccessToken(first);
    const res = await service.fetch(`${server.apiUrl}/whoami`);
    assert.equal(res.status, 200);
    await res.text();
    assert.equal(server.stats.tokenRequests, 2);
    assert.notEqual(await service.accessToken(), first);
  });

  it("shares one token state between two processes' worth of instances on the same file store", async (t) => {
    const server = await withDemoServer(t);
    const dir = await tmpDir(t);
    const a = await load(server, dir);
    const b = await load(server, dir);
    t.after(() => Promise.all([a.close(), b.close()]));
    const tokenA = await a.connection("demo-service").accessToken();
    const tokenB = await b.connection("demo-service").accessToken();
    assert.equal(tokenA, tokenB);
    assert.equal(server.stats.tokenRequests, 1);
  });

  it("reports status without secrets and logs out with a tombstone", async (t) => {
    const server = await withDemoServer(t);
    const ts = await load(server, await tmpDir(t));
    t.after(() => ts.close());
    const token = await ts.connection("demo-password").accessToken();
    const status = await ts.connection("demo-password").status();
    assert.equal(status.state, "valid");
    assert.equal(status.hasRefreshToken, true);
    assert.equal(status.tokenRequests, 1);
    const text = JSON.stringify(status);
    assert.ok(!text.includes(token));
    assert.ok(!text.includes(server.users.password));
    await ts.connection("demo-password").logout();
    assert.equal((await ts.connection("demo-password").status()).state, "none");
  });

  it("revokes at the server and drops the local state", async (t) => {
    const server = await withDemoServer(t);
    const ts = await load(server, await tmpDir(t));
    t.after(() => ts.close());
    const token = await ts.connection("demo-password").accessToken();
    const result = await ts.connection("demo-password").revoke();
    assert.ok(result.revoked.includes("refresh_token"));
    assert.equal((await callApi(server, "/whoami", token)).status, 401);
    assert.equal((await ts.connection("demo-password").status()).state, "none");
  });
});

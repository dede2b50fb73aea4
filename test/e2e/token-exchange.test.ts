import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { demoConfig } from "../../src/demo/config.js";
import type { DemoServer } from "../../src/demo/server.js";
import { TokenSmith } from "../../src/tokensmith.js";
import { callApi, tmpDir, withDemoServer } from "../support/demo.js";

/** The demo config plus token exchange connections (RFC 8693) against the same server. */
async function load(server: DemoServer, dir: string, connections: Record<string, object>, env: NodeJS.ProcessEnv = {}) {
  const config: any = demoConfig(server, { dir: join(dir, "store") });
  const exchange = { ...config.connections["demo-service"], grant: "token_exchange" };
  for (const [name, fields] of Object.entries(connections)) config.connections[name] = { ...exchange, ...fields };
  return TokenSmith.load({ config, env });
}

describe("token exchange (RFC 8693) against the demo server's token exchange grant", () => {
  it("exchanges another connection's access token for one the API accepts for the same user", async (t) => {
    const server = await withDemoServer(t);
    const ts = await load(server, await tmpDir(t), { delegated: { subject_token: { connection: "demo-password" } } });
    t.after(() => ts.close());
    const token = await ts.connection("delegated").accessToken();
    const who = await callApi(server, "/whoami", token);
    assert.equal(who.status, 200);
    assert.equal(who.body.sub, server.users.username);
    assert.equal(who.body.grant, "token-exchange");
    // One password grant for the subject, one exchange; the exchanged token is cached after that.
    assert.equal(await ts.connection("delegated").accessToken(), token);
    assert.equal(server.stats.tokenRequests, 2);
  });

  it("exchanges a subject token given as a value (from the environment)", async (t) => {
    const server = await withDemoServer(t);
    const dir = await tmpDir(t);
    const source = await load(server, dir, {});
    t.after(() => source.close());
    const subject = await source.connection("demo-password").accessToken();
    const ts = await load(server, dir, { fromEnv: { subject_token: "${env:SUBJECT}" } }, { SUBJECT: subject });
    t.after(() => ts.close());
    const who = await callApi(server, "/whoami", await ts.connection("fromEnv").accessToken());
    assert.equal(who.body.sub, server.users.username);
  });

  it("is refused by the server when the subject token is not one of its active tokens", async (t) => {
    const server = await withDemoServer(t);
    const ts = await load(server, await tmpDir(t), { forged: { subject_token: "not-a-token-of-this-server" } });
    t.after(() => ts.close());
    await assert.rejects(ts.connection("forged").accessToken(), (err: any) => err.code === "oauth_error" && err.error === "invalid_grant");
  });

  it("keeps exchanges of different subjects apart and shares one subject's exchange (fingerprint, SPEC §2.1)", async (t) => {
    const server = await withDemoServer(t);
    const ts = await load(server, await tmpDir(t), {
      a: { subject_token: { connection: "demo-password" } },
      b: { subject_token: { connection: "demo-password" } },
      c: { subject_token: "some-other-subject" },
    });
    t.after(() => ts.close());
    assert.deepEqual((await ts.connection("a").status()).sharedWith, ["b"]);
    assert.deepEqual((await ts.connection("c").status()).sharedWith, []);
  });

  it("says which field is wrong for a missing subject, an unknown connection and a cycle", async (t) => {
    const server = await withDemoServer(t);
    const dir = await tmpDir(t);
    await assert.rejects(load(server, dir, { none: {} }), (err: any) => err.code === "config_invalid" && /subject_token/.test(err.field ?? err.message));
    await assert.rejects(
      load(server, dir, { typo: { subject_token: { connection: "demo-pasword" } } }),
      (err: any) => err.code === "config_invalid" && /demo-password/.test(`${err.hint}`) && /subject_token\.connection/.test(err.field ?? err.message),
    );
    const ts = await load(server, dir, { x: { subject_token: { connection: "y" } }, y: { subject_token: { connection: "x" } } });
    t.after(() => ts.close());
    await assert.rejects(ts.connection("x").accessToken(), (err: any) => err.code === "config_invalid" && /comes back to itself/.test(err.message));
  });
});

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { introspectToken, processIntrospectionResponse } from "../../src/protocol/introspect.js";
import { caught, client, deps, form, json, startServer, type TestServer } from "./helpers.js";

describe("introspectToken (RFC 7662)", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer((req, res) => {
      const { token } = form(req.body);
      if (token === "live") return json(res, 200, { active: true, scope: "a b", client_id: "c1", username: "ann", exp: 1_900_000_000, aud: ["x"], ext: 1 });
      json(res, 200, { active: false });
    });
  });
  after(() => server.close());

  const endpoints = () => ({ introspectionUrl: `${server.url}/introspect` });

  it("reads an active token's metadata", async () => {
    const result = await introspectToken(client(), endpoints(), { token: "live", tokenTypeHint: "access_token" }, deps);
    assert.equal(result.active, true);
    assert.equal(result.scope, "a b");
    assert.equal(result.clientId, "c1");
    assert.equal(result.username, "ann");
    assert.deepEqual(result.aud, ["x"]);
    assert.equal(result.expiresAtMs, 1_900_000_000_000);
    assert.equal(result.claims.ext, 1);
    assert.match(server.requests.at(-1)!.headers.authorization!, /^Basic /);
  });

  it("keeps Accept: application/json whatever token_headers say (SPEC §2.13)", async () => {
    await introspectToken(client({ tokenHeaders: { Accept: "text/plain", "X-Extra": "yes" } }), endpoints(), { token: "live" }, deps);
    const req = server.requests.at(-1)!;
    assert.equal(req.headers.accept, "application/json");
    assert.equal(req.headers["x-extra"], "yes");
  });

  it("reads an inactive token", async () => {
    const result = await introspectToken(client(), endpoints(), { token: "dead" }, deps);
    assert.equal(result.active, false);
  });

  it("refuses a response without a boolean active", async () => {
    const err = await caught(() => processIntrospectionResponse({ status: 200, headers: new Headers(), body: `{"active":"yes"}`, url: "https://a/introspect" }));
    assert.equal(err.code, "invalid_response");
    assert.equal(err.url, "https://a/introspect");
  });

  it("says not_supported when there is no introspection endpoint", async () => {
    const err = await caught(() => introspectToken(client(), {}, { token: "t" }, deps));
    assert.equal(err.code, "not_supported");
  });
});

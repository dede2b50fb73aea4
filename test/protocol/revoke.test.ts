import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { processRevocationResponse, revokeToken } from "../../src/protocol/revoke.js";
import { assertNoSecrets, caught, client, deps, form, json, startServer, type TestServer } from "./helpers.js";

describe("revokeToken (RFC 7009)", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer((req, res) => {
      const body = form(req.body);
      if (req.path === "/revoke") {
        if (body.token_type_hint === "access_token") return json(res, 400, { error: "unsupported_token_type" });
        res.writeHead(200);
        return res.end();
      }
      if (req.path === "/down") {
        res.writeHead(503, { "Retry-After": "5" });
        return res.end();
      }
      if (req.path === "/redirect") {
        res.writeHead(302, { Location: "https://elsewhere.example.com/revoke" });
        return res.end();
      }
      json(res, 401, { error: "invalid_client" });
    });
  });
  after(() => server.close());

  const conn = (path: string) => client({ clientAuth: "post", revocationUrl: `${server.url}${path}` });

  it("sends token, token_type_hint and client authentication, and reports revoked on 200", async () => {
    const result = await revokeToken(conn("/revoke"), { revocationUrl: `${server.url}/revoke` }, { token: "rt-to-revoke", tokenTypeHint: "refresh_token" }, deps);
    assert.deepEqual(result, { outcome: "revoked" });
    const req = server.requests.at(-1)!;
    assert.deepEqual(form(req.body), { token: "rt-to-revoke", token_type_hint: "refresh_token", client_id: "my-client", client_secret: "s3cret-value" });
    assert.equal(req.headers.accept, "application/json");
  });

  it("keeps Accept: application/json whatever token_headers say, and adds the others (SPEC §2.13)", async () => {
    const withHeaders = client({ clientAuth: "post", revocationUrl: `${server.url}/revoke`, tokenHeaders: { ACCEPT: "*/*", "X-Extra": "yes" } });
    await revokeToken(withHeaders, { revocationUrl: `${server.url}/revoke` }, { token: "rt-to-revoke", tokenTypeHint: "refresh_token" }, deps);
    const req = server.requests.at(-1)!;
    assert.equal(req.headers.accept, "application/json");
    assert.equal(req.headers["x-extra"], "yes");
  });

  it("reports unsupported_token_type distinctly instead of failing", async () => {
    const result = await revokeToken(conn("/revoke"), { revocationUrl: `${server.url}/revoke` }, { token: "at-x", tokenTypeHint: "access_token" }, deps);
    assert.equal(result.outcome, "unsupported_token_type");
  });

  it("throws oauth_error for other errors without showing the token", async () => {
    const err = await caught(() => revokeToken(conn("/bad"), { revocationUrl: `${server.url}/bad` }, { token: "rt-secret-999" }, deps));
    assert.equal(err.code, "oauth_error");
    assert.equal(err.error, "invalid_client");
    assert.match(err.message, /revocation endpoint/);
    assertNoSecrets(err, ["rt-secret-999"]);
  });

  it("reports a 503 as a transient invalid_response with Retry-After", async () => {
    const err = await caught(() => revokeToken(conn("/down"), { revocationUrl: `${server.url}/down` }, { token: "t" }, deps));
    assert.equal(err.code, "invalid_response");
    assert.equal(err.status, 503);
    assert.equal(err.retryAfter, 5);
  });

  it("does not follow a redirect", async () => {
    const err = await caught(() => revokeToken(conn("/redirect"), { revocationUrl: `${server.url}/redirect` }, { token: "t" }, deps));
    assert.equal(err.code, "invalid_response");
    assert.match(err.message, /revocation endpoint .* redirected/);
  });

  it("says not_supported, suggesting logout, when there is no revocation endpoint", async () => {
    const err = await caught(() => revokeToken(client(), {}, { token: "t" }, deps));
    assert.equal(err.code, "not_supported");
    assert.match(err.hint ?? "", /tokensmith logout test/);
  });

  it("accepts 204 as revoked", () => {
    assert.deepEqual(processRevocationResponse({ status: 204, headers: new Headers(), body: "", url: "https://a/revoke" }), { outcome: "revoked" });
  });
});

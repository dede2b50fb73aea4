import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { buildAuthorizationUrl, generatePkce, pkceChallenge, prepareAuthorization } from "../../src/protocol/authorization-url.js";
import { caught, client } from "./helpers.js";

const endpoints = { authorizationUrl: "https://auth.example.com/authorize?tenant=t1" };

describe("PKCE (RFC 7636)", () => {
  it("makes a 43-character verifier and its S256 challenge", () => {
    const pkce = generatePkce("S256");
    assert.match(pkce.verifier, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(pkce.challenge, createHash("sha256").update(pkce.verifier).digest("base64url"));
    assert.notEqual(generatePkce().verifier, pkce.verifier);
  });

  it("matches the RFC 7636 Appendix B example", () => {
    assert.equal(pkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "S256"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  });

  it("uses the verifier itself as a plain challenge", () => {
    const pkce = generatePkce("plain");
    assert.equal(pkce.challenge, pkce.verifier);
  });
});

describe("buildAuthorizationUrl", () => {
  it("carries response_type, client_id, redirect_uri, scope, state, PKCE, nonce, audience and extra parameters", () => {
    const conn = client({ scopes: ["openid", "offline_access"], audience: "https://api", authorizationParams: { prompt: "consent", access_type: "offline" } });
    const url = new URL(
      buildAuthorizationUrl(conn, endpoints, { redirectUri: "http://127.0.0.1:8000/callback", state: "st", nonce: "nn", pkce: { verifier: "v", challenge: "c", method: "S256" } }),
    );
    assert.equal(url.origin + url.pathname, "https://auth.example.com/authorize");
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      tenant: "t1",
      response_type: "code",
      client_id: "my-client",
      redirect_uri: "http://127.0.0.1:8000/callback",
      scope: "openid offline_access",
      audience: "https://api",
      prompt: "consent",
      access_type: "offline",
      state: "st",
      code_challenge: "c",
      code_challenge_method: "S256",
      nonce: "nn",
    });
  });

  it("never lets authorization_params override state or PKCE", () => {
    const conn = client({ authorizationParams: { state: "evil", code_challenge: "evil" } });
    const url = new URL(buildAuthorizationUrl(conn, endpoints, { redirectUri: "http://127.0.0.1/cb", state: "good", pkce: { verifier: "v", challenge: "c", method: "S256" } }));
    assert.deepEqual(url.searchParams.getAll("state"), ["good"]);
    assert.deepEqual(url.searchParams.getAll("code_challenge"), ["c"]);
  });

  it("refuses a plain-http authorization URL that is not loopback", async () => {
    const err = await caught(() => buildAuthorizationUrl(client(), { authorizationUrl: "http://auth.example.com/authorize" }, { redirectUri: "x", state: "s" }));
    assert.equal(err.code, "config_invalid");
    assert.equal(err.field, "connections.test.authorization_url");
  });
});

describe("prepareAuthorization", () => {
  it("generates state, an S256 verifier and, with openid, a nonce", () => {
    const prepared = prepareAuthorization(client({ scopes: ["openid"] }), endpoints, { redirectUri: "http://127.0.0.1/cb" });
    const params = new URL(prepared.url).searchParams;
    assert.equal(params.get("state"), prepared.state);
    assert.equal(params.get("nonce"), prepared.nonce);
    assert.equal(params.get("code_challenge"), pkceChallenge(prepared.codeVerifier!, "S256"));
    assert.ok(prepared.state.length >= 43);
  });

  it("sends no PKCE with pkce off and no nonce without openid", () => {
    const prepared = prepareAuthorization(client({ pkce: "off" }), endpoints, { redirectUri: "http://127.0.0.1/cb" });
    const params = new URL(prepared.url).searchParams;
    assert.equal(params.get("code_challenge"), null);
    assert.equal(prepared.codeVerifier, undefined);
    assert.equal(prepared.nonce, undefined);
  });
});

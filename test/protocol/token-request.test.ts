import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, it } from "node:test";
import { jwtVerify } from "jose";
import { DEVICE_CODE_GRANT_TYPE, JWT_BEARER_GRANT_TYPE, buildTokenRequest } from "../../src/protocol/token-request.js";
import { caught, client, form } from "./helpers.js";

const TOKEN_URL = "https://auth.example.com/oauth/token";
const endpoints = { tokenUrl: TOKEN_URL };
const NOW = Date.UTC(2030, 0, 1);
const now = () => NOW;

describe("buildTokenRequest", () => {
  it("builds a client_credentials request with scopes, audience and Accept: application/json", async () => {
    const conn = client({ scopes: ["a.read", "b.write"], audience: "https://api.example.com" });
    const req = await buildTokenRequest(conn, endpoints, { kind: "client_credentials" }, { now });
    assert.equal(req.url, TOKEN_URL);
    assert.equal(req.method, "POST");
    assert.equal(req.headers.Accept, "application/json");
    assert.equal(req.headers["Content-Type"], "application/x-www-form-urlencoded");
    assert.match(req.headers.Authorization!, /^Basic /);
    assert.deepEqual(form(req.body), { grant_type: "client_credentials", scope: "a.read b.write", audience: "https://api.example.com" });
  });

  it("joins scopes with the configured separator", async () => {
    const req = await buildTokenRequest(client({ scopes: ["a", "b"], scopeSeparator: "," }), endpoints, { kind: "client_credentials" }, { now });
    assert.equal(form(req.body).scope, "a,b");
  });

  it("sends one resource parameter per resource (RFC 8707)", async () => {
    const req = await buildTokenRequest(client({ resource: ["https://a.example", "https://b.example"] }), endpoints, { kind: "client_credentials" }, { now });
    assert.deepEqual(new URLSearchParams(req.body).getAll("resource"), ["https://a.example", "https://b.example"]);
  });

  it("builds a password request and needs username and password", async () => {
    const req = await buildTokenRequest(client({ username: "ann", password: "pw-123456" }), endpoints, { kind: "password" }, { now });
    assert.deepEqual(form(req.body), { grant_type: "password", username: "ann", password: "pw-123456" });
    const err = await caught(() => buildTokenRequest(client({ username: "ann" }), endpoints, { kind: "password" }, { now }));
    assert.equal(err.code, "config_invalid");
    assert.equal(err.field, "connections.test.password");
  });

  it("omits scope on refresh (RFC 6749 §6) and adds refresh_params there only", async () => {
    const conn = client({ scopes: ["offline_access", "User.Read"], refreshParams: { scope: "offline_access User.Read" }, tokenParams: { tenant_hint: "x" } });
    const refresh = await buildTokenRequest(conn, endpoints, { kind: "refresh_token", refreshToken: "rt-1" }, { now });
    assert.deepEqual(form(refresh.body), { grant_type: "refresh_token", refresh_token: "rt-1", tenant_hint: "x", scope: "offline_access User.Read" });
    const plain = await buildTokenRequest(client({ scopes: ["a"] }), endpoints, { kind: "refresh_token", refreshToken: "rt-1" }, { now });
    assert.equal(form(plain.body).scope, undefined);
    const cc = await buildTokenRequest(conn, endpoints, { kind: "client_credentials" }, { now });
    assert.equal(form(cc.body).scope, "offline_access User.Read");
    assert.equal(form(cc.body).tenant_hint, "x");
  });

  it("builds an authorization_code request with redirect_uri and code_verifier", async () => {
    const grant = { kind: "authorization_code" as const, code: "code-1", redirectUri: "http://127.0.0.1:5000/callback", codeVerifier: "v".repeat(43) };
    const req = await buildTokenRequest(client({ clientAuth: "none", scopes: ["openid"] }), endpoints, grant, { now });
    assert.deepEqual(form(req.body), {
      grant_type: "authorization_code",
      code: "code-1",
      redirect_uri: "http://127.0.0.1:5000/callback",
      code_verifier: "v".repeat(43),
      client_id: "my-client",
    });
  });

  it("builds a device_code poll", async () => {
    const req = await buildTokenRequest(client({ clientAuth: "none" }), endpoints, { kind: "device_code", deviceCode: "dc-1" }, { now });
    assert.deepEqual(form(req.body), { grant_type: DEVICE_CODE_GRANT_TYPE, device_code: "dc-1", client_id: "my-client" });
  });

  it("builds a custom grant from grant_type and token_params", async () => {
    const conn = client({ clientAuth: "post", grantType: "fb_exchange_token", tokenParams: { fb_exchange_token: "short-lived" } });
    const req = await buildTokenRequest(conn, endpoints, { kind: "custom" }, { now });
    assert.deepEqual(form(req.body), { grant_type: "fb_exchange_token", fb_exchange_token: "short-lived", client_id: "my-client", client_secret: "s3cret-value" });
  });

  it("signs a jwt_bearer assertion with the configured sub", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const conn = client({
      grant: "jwt_bearer",
      clientAuth: "none",
      clientId: "svc@example.iam",
      privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      assertion: { sub: "user@example.com", ttlMs: 300_000, claims: { scope: "x" } },
    });
    const req = await buildTokenRequest(conn, endpoints, { kind: "jwt_bearer" }, { now });
    const body = form(req.body);
    assert.equal(body.grant_type, JWT_BEARER_GRANT_TYPE);
    const { payload } = await jwtVerify(body.assertion!, publicKey, { currentDate: new Date(NOW), audience: TOKEN_URL });
    assert.equal(payload.iss, "svc@example.iam");
    assert.equal(payload.sub, "user@example.com");
    assert.equal(payload.scope, "x");
  });

  it("requires assertion.sub for jwt_bearer", async () => {
    const { privateKey } = generateKeyPairSync("ed25519");
    const conn = client({ grant: "jwt_bearer", clientAuth: "none", privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString() });
    const err = await caught(() => buildTokenRequest(conn, endpoints, { kind: "jwt_bearer" }, { now }));
    assert.equal(err.code, "config_invalid");
    assert.equal(err.field, "connections.test.assertion.sub");
  });

  it("sends a JSON body with token_body json", async () => {
    const req = await buildTokenRequest(client({ tokenBody: "json", resource: ["r1", "r2"] }), endpoints, { kind: "refresh_token", refreshToken: "rt" }, { now });
    assert.equal(req.headers["Content-Type"], "application/json");
    assert.deepEqual(JSON.parse(req.body), { grant_type: "refresh_token", refresh_token: "rt", resource: ["r1", "r2"] });
  });

  it("adds token_headers, but never replaces Accept (SPEC §2.13) or the client authentication", async () => {
    const conn = client({ tokenHeaders: { "User-Agent": "script/1.0 by me", accept: "text/html", authorization: "nope", "content-type": "application/x-www-form-urlencoded; charset=utf-8" } });
    const req = await buildTokenRequest(conn, endpoints, { kind: "client_credentials" }, { now });
    assert.equal(req.headers["User-Agent"], "script/1.0 by me");
    assert.equal(req.headers.Accept, "application/json");
    assert.equal(req.headers.accept, undefined);
    assert.equal(req.headers["content-type"], "application/x-www-form-urlencoded; charset=utf-8");
    assert.match(req.headers.Authorization!, /^Basic /);
    assert.equal(req.headers.authorization, undefined);
  });

  it("refuses an http token URL that is not loopback, naming the field", async () => {
    const err = await caught(() => buildTokenRequest(client(), { tokenUrl: "http://auth.example.com/token" }, { kind: "client_credentials" }, { now }));
    assert.equal(err.code, "config_invalid");
    assert.equal(err.field, "connections.test.token_url");
  });

  it("reports a missing token URL as a configuration error", async () => {
    const err = await caught(() => buildTokenRequest(client(), {}, { kind: "client_credentials" }, { now }));
    assert.equal(err.code, "config_invalid");
    assert.match(err.hint ?? "", /token_url/);
  });
});

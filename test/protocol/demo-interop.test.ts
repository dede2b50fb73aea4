import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ResolvedConnection } from "../../src/config/types.js";
import { SLOW_DOWN_INCREMENT_MS, pollDeviceToken, requestDeviceAuthorization } from "../../src/protocol/device.js";
import { introspectToken } from "../../src/protocol/introspect.js";
import { revokeToken } from "../../src/protocol/revoke.js";
import { requestToken } from "../../src/protocol/send.js";
import { discover } from "../../src/providers/discovery.js";
import { withDemoServer } from "../support/demo.js";
import { caught, client, connection, deps } from "./helpers.js";

/**
 * The protocol layer against a real authorization server (oidc-provider, via the bundled
 * demo): discovery, every client authentication method, revocation, introspection, device.
 */
describe("against the demo authorization server", () => {
  it("discovers the endpoints from the issuer", async (t) => {
    const server = await withDemoServer(t);
    const endpoints = await discover(connection({ issuer: server.issuer }), deps);
    assert.equal(endpoints.tokenUrl, server.endpoints.token);
    assert.equal(endpoints.revocationUrl, server.endpoints.revocation);
    assert.equal(endpoints.introspectionUrl, server.endpoints.introspection);
    assert.equal(endpoints.deviceAuthorizationUrl, server.endpoints.deviceAuthorization);
    assert.equal(endpoints.jwksUri, server.endpoints.jwks);
  });

  it("obtains client_credentials tokens with every client authentication method", async (t) => {
    const server = await withDemoServer(t);
    const endpoints = await discover(connection({ issuer: server.issuer }), deps);
    const { basic, post, secretJwt, privateKeyJwt } = server.clients;
    const variants: Array<[string, Partial<ResolvedConnection>]> = [
      ["basic", { clientId: basic.clientId, clientSecret: basic.clientSecret, clientAuth: "basic" }],
      ["post", { clientId: post.clientId, clientSecret: post.clientSecret, clientAuth: "post" }],
      ["client_secret_jwt", { clientId: secretJwt.clientId, clientSecret: secretJwt.clientSecret, clientAuth: "client_secret_jwt" }],
      ["private_key_jwt (PEM)", { clientId: privateKeyJwt.clientId, privateKey: privateKeyJwt.privateKeyPem, clientAuth: "private_key_jwt", assertion: { kid: privateKeyJwt.kid, ttlMs: 60_000, claims: {} } }],
      ["private_key_jwt (JWK)", { clientId: privateKeyJwt.clientId, privateKey: JSON.stringify(privateKeyJwt.privateJwk), clientAuth: "private_key_jwt" }],
    ];
    for (const [name, overrides] of variants) {
      const conn = client({ issuer: server.issuer, clientSecret: undefined, ...overrides });
      const { tokens } = await requestToken(conn, endpoints, { kind: "client_credentials" }, deps);
      assert.ok(tokens.accessToken.length > 10, name);
      assert.equal(tokens.tokenType, "Bearer", name);
      assert.ok(tokens.expiresInMs! > 0, name);
    }
  });

  it("reports a wrong secret as invalid_client", async (t) => {
    const server = await withDemoServer(t);
    const endpoints = await discover(connection({ issuer: server.issuer }), deps);
    const conn = client({ clientId: server.clients.basic.clientId, clientSecret: "wrong-secret-value" });
    const err = await caught(() => requestToken(conn, endpoints, { kind: "client_credentials" }, deps));
    assert.equal(err.code, "oauth_error");
    assert.equal(err.error, "invalid_client");
  });

  it("introspects and revokes a token", async (t) => {
    const server = await withDemoServer(t);
    const endpoints = await discover(connection({ issuer: server.issuer }), deps);
    const conn = client({ clientId: server.clients.basic.clientId, clientSecret: server.clients.basic.clientSecret });
    const { tokens } = await requestToken(conn, endpoints, { kind: "client_credentials" }, deps);
    assert.equal((await introspectToken(conn, endpoints, { token: tokens.accessToken }, deps)).active, true);
    const result = await revokeToken(conn, endpoints, { token: tokens.accessToken, tokenTypeHint: "access_token" }, deps);
    assert.ok(result.outcome === "revoked" || result.outcome === "unsupported_token_type");
    if (result.outcome === "revoked") assert.equal((await introspectToken(conn, endpoints, { token: tokens.accessToken }, deps)).active, false);
  });

  it("obtains a token with the password grant and the jwt_bearer grant", async (t) => {
    const server = await withDemoServer(t);
    const endpoints = await discover(connection({ issuer: server.issuer }), deps);
    const { basic, privateKeyJwt } = server.clients;
    const password = client({ grant: "password", clientId: basic.clientId, clientSecret: basic.clientSecret, username: server.users.username, password: server.users.password });
    assert.ok((await requestToken(password, endpoints, { kind: "password" }, deps)).tokens.accessToken);
    const bearer = client({
      grant: "jwt_bearer",
      issuer: server.issuer,
      clientId: privateKeyJwt.clientId,
      clientSecret: undefined,
      clientAuth: "private_key_jwt",
      privateKey: JSON.stringify(privateKeyJwt.privateJwk),
      assertion: { sub: "someone@example.com", ttlMs: 60_000, claims: {} },
    });
    assert.ok((await requestToken(bearer, endpoints, { kind: "jwt_bearer" }, deps)).tokens.accessToken);
  });

  it("starts a device authorization and polls it until approved", async (t) => {
    const server = await withDemoServer(t, { devicePolling: { interval: 1 } });
    const endpoints = await discover(connection({ issuer: server.issuer }), deps);
    const conn = client({ grant: "device_code", clientId: server.clients.public.clientId, clientSecret: undefined, clientAuth: "none", scopes: ["openid", "offline_access"] });
    const auth = await requestDeviceAuthorization(conn, endpoints, deps);
    assert.equal((await pollDeviceToken(conn, endpoints, auth.deviceCode, deps)).status, "pending");
    await server.approveDeviceCode(auth.userCode);
    let interval = auth.intervalMs;
    await new Promise((resolve) => setTimeout(resolve, interval));
    let done = await pollDeviceToken(conn, endpoints, auth.deviceCode, deps);
    for (let polls = 0; done.status !== "authorized" && polls < 3; polls++) {
      if (done.status === "slow_down") interval += SLOW_DOWN_INCREMENT_MS;
      await new Promise((resolve) => setTimeout(resolve, interval));
      done = await pollDeviceToken(conn, endpoints, auth.deviceCode, deps);
    }
    assert.equal(done.status, "authorized", JSON.stringify(done));
    assert.ok(done.status === "authorized" && done.tokens.refreshToken);
  });
});

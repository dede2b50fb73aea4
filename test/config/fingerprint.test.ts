import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fingerprint, fingerprintInput, normalizeUrl } from "../../src/config/fingerprint.js";
import { loadConfig } from "../../src/config/load.js";
import { resolveConnection } from "../../src/config/resolve.js";

const ENV = { HOME: "/nonexistent-home" };
const BASE = { token_url: "https://auth.example.com/oauth/token", client_id: "client", client_secret: "first-secret-value" };
const USER = { ...BASE, authorization_url: "https://auth.example.com/authorize" };

/** Fingerprints of connections given as objects, in order. */
async function prints(...connections: Record<string, unknown>[]): Promise<string[]> {
  const named = Object.fromEntries(connections.map((conn, i) => [`c${i}`, conn]));
  const loaded = await loadConfig({ config: { connections: named }, cwd: "/", env: ENV });
  return connections.map((_, i) => fingerprint(resolveConnection(loaded, `c${i}`, { env: ENV }).connection));
}

describe("fingerprints", () => {
  it("is a 32-character base64url string", async () => {
    const [print] = await prints(BASE);
    assert.match(print, /^[A-Za-z0-9_-]{32}$/);
  });

  it("is the same for connections that differ only in secrets and keys", async () => {
    const [a, b, c] = await prints(BASE, { ...BASE, client_secret: "rotated-secret-value" }, { ...BASE, private_key: { kty: "oct", k: "AAAA" } });
    assert.equal(a, b);
    assert.equal(a, c);
  });

  it("ignores scope order, duplicate scopes and token URL spelling", async () => {
    const [a, b] = await prints(
      { ...BASE, scopes: ["read", "write"] },
      { ...BASE, scopes: "write read write", token_url: "HTTPS://Auth.Example.com:443/oauth/token/" },
    );
    assert.equal(a, b);
  });

  it("differs for other scopes, audience, resource, client or token parameters", async () => {
    const all = await prints(
      BASE,
      { ...BASE, scopes: ["read"] },
      { ...BASE, audience: "https://api.example.com" },
      { ...BASE, resource: "https://api.example.com" },
      { ...BASE, client_id: "other" },
      { ...BASE, token_params: { tenant: "a" } },
      { ...BASE, token_url: "https://auth.example.com/oauth/token2" },
    );
    assert.equal(new Set(all).size, all.length);
  });

  it("shares one state among user grants of the same account, and separates accounts", async () => {
    const [code, device, seeded, named, other] = await prints(
      { ...USER, account: "ann" },
      { ...USER, grant: "device_code", device_authorization_url: "https://auth.example.com/device", account: "ann" },
      { ...USER, grant: "refresh_token", refresh_token: "seed-refresh-token", account: "ann" },
      { ...USER, account: "bob" },
      USER,
    );
    assert.equal(code, device);
    assert.equal(code, seeded);
    assert.notEqual(code, named);
    assert.notEqual(code, other, "the default account is the connection's name");
  });

  it("keys password and jwt_bearer states by their identity, and separates grant families", async () => {
    const key = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----";
    const [ann, bob, jwtA, jwtB, client] = await prints(
      { ...BASE, grant: "password", username: "ann", password: "pw-one-value" },
      { ...BASE, grant: "password", username: "bob", password: "pw-one-value" },
      { ...BASE, grant: "jwt_bearer", private_key: key, assertion: { sub: "a@example.com" } },
      { ...BASE, grant: "jwt_bearer", private_key: key, assertion: { sub: "b@example.com" } },
      BASE,
    );
    assert.equal(new Set([ann, bob, jwtA, jwtB, client]).size, 5);
    const [annAgain] = await prints({ ...BASE, grant: "password", username: "ann", password: "another-password" });
    assert.equal(annAgain, ann);
  });

  it("ignores the connection name for client_credentials", async () => {
    const [a, b] = await prints(BASE, BASE);
    assert.equal(a, b);
  });

  it("falls back to the issuer when there is no token URL yet", async () => {
    const [a, b] = await prints({ issuer: "https://idp.example.com/", client_id: "c", client_secret: "secret-1-value" }, { issuer: "https://idp.example.com", client_id: "c", client_secret: "secret-2-value" });
    assert.equal(a, b);
  });

  it("never contains secrets in its input", async () => {
    const loaded = await loadConfig({ config: { connections: { c: { ...BASE, grant: "password", username: "ann", password: "pw-hidden-value" } } }, cwd: "/", env: ENV });
    const input = JSON.stringify(fingerprintInput(resolveConnection(loaded, "c", { env: ENV }).connection));
    assert.ok(!input.includes("first-secret-value") && !input.includes("pw-hidden-value"));
  });

  it("normalizes URLs by scheme, host, default port and trailing slash only", () => {
    assert.equal(normalizeUrl("HTTPS://Example.COM:443/Path/"), "https://example.com/Path");
    assert.equal(normalizeUrl("http://example.com:80"), "http://example.com");
    assert.equal(normalizeUrl("https://example.com:8443/t?x=1#frag"), "https://example.com:8443/t?x=1");
  });
});

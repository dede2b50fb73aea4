import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from "jose";
import { TokenSmithError } from "../../src/errors.js";
import { checkIdTokenClaims, INVALID_ID_TOKEN, validateIdToken, type IdTokenExpectations } from "../../src/flows/id-token.js";
import { connection, startServer } from "../protocol/helpers.js";

const ISSUER = "https://auth.example.com";
const CLIENT_ID = "my-client";
const NOW = Date.UTC(2026, 0, 1, 12);
const NOW_S = NOW / 1000;

function expected(overrides: Partial<IdTokenExpectations> = {}): IdTokenExpectations {
  return { connection: "crm", clientId: CLIENT_ID, issuer: ISSUER, isIssuer: (iss) => iss === ISSUER, nonce: "n-0S6_WzA2Mj", now: NOW, ...overrides };
}

const claims = (overrides: Record<string, unknown> = {}) => ({ iss: ISSUER, sub: "u1", aud: CLIENT_ID, exp: NOW_S + 3600, iat: NOW_S, nonce: "n-0S6_WzA2Mj", ...overrides });

function rejectsClaims(overrides: Record<string, unknown>, pattern: RegExp, expectations = expected()) {
  assert.throws(
    () => checkIdTokenClaims(claims(overrides), expectations),
    (err: unknown) => err instanceof TokenSmithError && err.code === "oauth_error" && err.error === INVALID_ID_TOKEN && pattern.test(err.message),
  );
}

describe("ID token claims", () => {
  it("accepts the claims of this login", () => {
    checkIdTokenClaims(claims(), expected());
    checkIdTokenClaims(claims({ aud: [CLIENT_ID, "other"], azp: CLIENT_ID }), expected());
  });

  it("refuses another issuer, another audience, an expired token and another nonce", () => {
    rejectsClaims({ iss: "https://evil.example.com" }, /issued by https:\/\/evil\.example\.com, not https:\/\/auth\.example\.com/);
    rejectsClaims({ iss: "https://evil.example.com\u001b[2J" }, /issued by https:\/\/evil\.example\.com\[2J, not/);
    rejectsClaims({ aud: "someone-else" }, /audience is not this client_id/);
    rejectsClaims({ aud: [CLIENT_ID, "other"] }, /azp/);
    rejectsClaims({ exp: NOW_S - 120 }, /expired/);
    rejectsClaims({ exp: undefined }, /no exp/);
    rejectsClaims({ nonce: "replayed" }, /nonce/);
    rejectsClaims({ nonce: undefined }, /nonce/);
  });

  it("tolerates a minute of clock skew on exp", () => {
    checkIdTokenClaims(claims({ exp: NOW_S - 30 }), expected());
  });

  it("does not compare iss when no issuer is known, but still requires one", () => {
    checkIdTokenClaims(claims({ iss: "https://whoever.example.com" }), expected({ issuer: undefined }));
    rejectsClaims({ iss: undefined }, /no iss/, expected({ issuer: undefined }));
  });
});

/** An issuer's key pair with its JWKS served on loopback. */
async function issuerKeys(t: TestContext) {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const other = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  const server = await startServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  t.after(() => server.close());
  const sign = (payload: JWTPayload, key = privateKey) => new SignJWT(payload).setProtectedHeader({ alg: "ES256", kid: "k1" }).sign(key);
  return { jwksUri: `${server.url}/jwks`, sign, otherKey: other.privateKey, requests: server.requests };
}

const deps = { fetch: (url: string, init: RequestInit) => fetch(url, init), now: () => NOW };
const conn = connection({ name: "crm", clientId: CLIENT_ID, allowInsecureHttp: true });
const expect = { issuer: ISSUER, isIssuer: (iss: string) => iss === ISSUER, nonce: "n-0S6_WzA2Mj" };

describe("validating an ID token", () => {
  it("verifies the signature with the issuer's JWKS and checks the claims", async (t) => {
    const keys = await issuerKeys(t);
    await validateIdToken(await keys.sign(claims()), conn, { jwksUri: keys.jwksUri }, expect, deps);
    assert.equal(keys.requests.length, 1);
  });

  it("refuses a token signed by another key", async (t) => {
    const keys = await issuerKeys(t);
    await assert.rejects(
      validateIdToken(await keys.sign(claims(), keys.otherKey), conn, { jwksUri: keys.jwksUri }, expect, deps),
      (err: unknown) => err instanceof TokenSmithError && err.error === INVALID_ID_TOKEN && /signature/.test(err.message),
    );
  });

  it("refuses a validly signed token with the wrong nonce", async (t) => {
    const keys = await issuerKeys(t);
    await assert.rejects(
      validateIdToken(await keys.sign(claims({ nonce: "other" })), conn, { jwksUri: keys.jwksUri }, expect, deps),
      (err: unknown) => err instanceof TokenSmithError && /nonce/.test(err.message),
    );
  });

  it("refuses an unsigned token (alg none)", async () => {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const unsigned = `${encode({ alg: "none" })}.${encode(claims())}.`;
    await assert.rejects(validateIdToken(unsigned, conn, {}, expect, deps), (err: unknown) => err instanceof TokenSmithError && /alg none/.test(err.message));
  });

  it("verifies HS256 tokens with the client secret", async () => {
    const secretConn = connection({ name: "crm", clientId: CLIENT_ID, clientSecret: "a-client-secret-of-enough-length-for-hs256" });
    const sign = (secret: string) => new SignJWT(claims()).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(secret));
    await validateIdToken(await sign("a-client-secret-of-enough-length-for-hs256"), secretConn, {}, expect, deps);
    await assert.rejects(validateIdToken(await sign("another-secret-of-enough-length-for-hs256!"), secretConn, {}, expect, deps), TokenSmithError);
  });

  it("checks the claims of a token it has no keys for (it came over TLS from the token endpoint)", async (t) => {
    const keys = await issuerKeys(t);
    await validateIdToken(await keys.sign(claims()), conn, {}, expect, deps);
    await assert.rejects(validateIdToken(await keys.sign(claims({ aud: "x" })), conn, {}, expect, deps), (err: unknown) => err instanceof TokenSmithError && /audience/.test(err.message));
  });
});

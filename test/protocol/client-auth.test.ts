import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, it } from "node:test";
import { createLocalJWKSet, decodeProtectedHeader, exportJWK, jwtVerify } from "jose";
import { CLIENT_ASSERTION_TYPE, basicAuthorization, clientAuthentication } from "../../src/protocol/client-auth.js";
import { loadPrivateKey } from "../../src/protocol/assertion.js";
import { redact } from "../../src/redact.js";
import { caught, client } from "./helpers.js";

const NOW = Date.UTC(2030, 0, 1);
const now = () => NOW;
const TOKEN_URL = "https://auth.example.com/oauth/token";
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const ed = generateKeyPairSync("ed25519");
const pem = (key: typeof rsa.privateKey) => key.export({ type: "pkcs8", format: "pem" }).toString();

function decodeBasic(header: string): string {
  return Buffer.from(header.replace(/^Basic /, ""), "base64").toString("utf8");
}

describe("basic client authentication", () => {
  it("form-urlencodes id and secret before base64 (RFC 6749 §2.3.1)", () => {
    const decoded = decodeBasic(basicAuthorization("id:1", "a+b/c=d&e%f:g ü", "form"));
    assert.equal(decoded, "id%3A1:a%2Bb%2Fc%3Dd%26e%25f%3Ag+%C3%BC");
    const [id, secret] = decoded.split(":").map((part) => decodeURIComponent(part.replace(/\+/g, " ")));
    assert.equal(id, "id:1");
    assert.equal(secret, "a+b/c=d&e%f:g ü");
  });

  it("sends id and secret as they are with basic_encoding raw", () => {
    assert.equal(decodeBasic(basicAuthorization("id", "a+b/c=d&ü", "raw")), "id:a+b/c=d&ü");
  });

  it("puts the credentials in the Authorization header only", async () => {
    const auth = await clientAuthentication(client({ clientAuth: "basic" }), { tokenUrl: TOKEN_URL }, { now });
    assert.deepEqual(auth.params, {});
    assert.equal(decodeBasic(auth.headers.Authorization!), "my%2Dclient:s3cret%2Dvalue");
  });

  it("needs a client secret", async () => {
    const err = await caught(() => clientAuthentication(client({ clientSecret: undefined }), { tokenUrl: TOKEN_URL }, { now }));
    assert.equal(err.code, "config_invalid");
    assert.equal(err.field, "connections.test.client_secret");
  });
});

describe("post and none client authentication", () => {
  it("post sends client_id and client_secret in the body", async () => {
    const auth = await clientAuthentication(client({ clientAuth: "post" }), { tokenUrl: TOKEN_URL }, { now });
    assert.deepEqual(auth, { headers: {}, params: { client_id: "my-client", client_secret: "s3cret-value" } });
  });

  it("none sends only client_id", async () => {
    const auth = await clientAuthentication(client({ clientAuth: "none" }), { tokenUrl: TOKEN_URL }, { now });
    assert.deepEqual(auth, { headers: {}, params: { client_id: "my-client" } });
  });
});

describe("private_key_jwt", () => {
  async function assertionFor(privateKey: string, extra: Parameters<typeof client>[0] = {}, endpoints = { tokenUrl: TOKEN_URL }) {
    const conn = client({ clientAuth: "private_key_jwt", privateKey, clientSecret: undefined, ...extra });
    const auth = await clientAuthentication(conn, endpoints, { now });
    assert.equal(auth.params.client_assertion_type, CLIENT_ASSERTION_TYPE);
    assert.equal(auth.params.client_id, "my-client");
    return auth.params.client_assertion!;
  }

  it("signs with RS256 for an RSA PEM key, iss = sub = client_id, aud = token URL, a 300 s lifetime", async () => {
    const jwt = await assertionFor(pem(rsa.privateKey));
    const { payload, protectedHeader } = await jwtVerify(jwt, rsa.publicKey, { currentDate: new Date(NOW), audience: TOKEN_URL });
    assert.equal(protectedHeader.alg, "RS256");
    assert.equal(payload.iss, "my-client");
    assert.equal(payload.sub, "my-client");
    assert.equal(payload.iat, NOW / 1000);
    assert.equal(payload.exp, NOW / 1000 + 300);
    assert.equal(typeof payload.jti, "string");
  });

  it("uses the issuer as audience when it is known", async () => {
    const jwt = await assertionFor(pem(rsa.privateKey), {}, { tokenUrl: TOKEN_URL, issuer: "https://auth.example.com" } as never);
    await jwtVerify(jwt, rsa.publicKey, { currentDate: new Date(NOW), audience: "https://auth.example.com" });
  });

  it("gives every assertion a unique jti", async () => {
    const a = await jwtVerify(await assertionFor(pem(rsa.privateKey)), rsa.publicKey, { currentDate: new Date(NOW) });
    const b = await jwtVerify(await assertionFor(pem(rsa.privateKey)), rsa.publicKey, { currentDate: new Date(NOW) });
    assert.notEqual(a.payload.jti, b.payload.jti);
  });

  it("signs with ES256 for a P-256 JWK and takes the kid from the JWK", async () => {
    const jwk = { ...(await exportJWK(ec.privateKey)), kid: "ec-1" };
    const jwt = await assertionFor(JSON.stringify(jwk));
    assert.deepEqual(decodeProtectedHeader(jwt), { alg: "ES256", kid: "ec-1", typ: "JWT" });
    const publicJwk = { ...(await exportJWK(ec.publicKey)), kid: "ec-1" };
    await jwtVerify(jwt, createLocalJWKSet({ keys: [publicJwk] }), { currentDate: new Date(NOW) });
  });

  it("signs with EdDSA for an Ed25519 key", async () => {
    const jwt = await assertionFor(pem(ed.privateKey));
    assert.equal(decodeProtectedHeader(jwt).alg, "EdDSA");
    await jwtVerify(jwt, ed.publicKey, { currentDate: new Date(NOW) });
  });

  it("honours alg, kid, ttl, aud and extra claims from the assertion settings", async () => {
    const jwt = await assertionFor(pem(rsa.privateKey), {
      assertion: { alg: "PS256", kid: "k2", ttlMs: 60_000, aud: "https://aud.example.com", claims: { tenant: "t1" } },
    });
    const { payload, protectedHeader } = await jwtVerify(jwt, rsa.publicKey, { currentDate: new Date(NOW), audience: "https://aud.example.com" });
    assert.equal(protectedHeader.alg, "PS256");
    assert.equal(protectedHeader.kid, "k2");
    assert.equal(payload.exp, NOW / 1000 + 60);
    assert.equal(payload.tenant, "t1");
  });

  it("reports an unreadable key by field without showing it", async () => {
    const err = await caught(() => assertionFor("-----BEGIN PRIVATE KEY-----\nnot-really-a-key\n-----END PRIVATE KEY-----"));
    assert.equal(err.code, "config_invalid");
    assert.equal(err.field, "connections.test.private_key");
    assert.doesNotMatch(err.message, /not-really-a-key/);
  });

  it("refuses a public key", async () => {
    const err = await caught(() => loadPrivateKey(rsa.publicKey.export({ type: "spki", format: "pem" }).toString(), { field: "f" }));
    assert.equal(err.code, "config_invalid");
  });

  it("reports an algorithm that does not fit the key as a configuration error", async () => {
    const err = await caught(() => assertionFor(pem(ec.privateKey), { assertion: { alg: "RS256", ttlMs: 300_000, claims: {} } }));
    assert.equal(err.code, "config_invalid");
  });
});

describe("client_secret_jwt", () => {
  it("signs an HS256 assertion with the client secret", async () => {
    const conn = client({ clientAuth: "client_secret_jwt" });
    const auth = await clientAuthentication(conn, { tokenUrl: TOKEN_URL }, { now });
    const jwt = auth.params.client_assertion!;
    assert.equal(decodeProtectedHeader(jwt).alg, "HS256");
    const { payload } = await jwtVerify(jwt, new TextEncoder().encode("s3cret-value"), { currentDate: new Date(NOW), audience: TOKEN_URL });
    assert.equal(payload.sub, "my-client");
    assert.equal(auth.params.client_secret, undefined);
  });
});

describe("basic_encoding form (RFC 6749 Appendix B)", () => {
  it("percent-encodes every character but ALPHA and DIGIT, `*-._~!'()` too, and sends space as +", () => {
    const header = basicAuthorization("client-id_1.0", "a*b-c.d_e f~g!h'(i)", "form");
    const pair = "client%2Did%5F1%2E0:a%2Ab%2Dc%2Ed%5Fe+f%7Eg%21h%27%28i%29";
    assert.equal(header, `Basic ${Buffer.from(pair).toString("base64")}`);
    assert.equal(header, "Basic Y2xpZW50JTJEaWQlNUYxJTJFMDphJTJBYiUyRGMlMkVkJTVGZStmJTdFZyUyMWglMjclMjhpJTI5");
  });
});

describe("client secret redaction", () => {
  it("registers the secret in every encoding sent: form, and both Basic header variants", async () => {
    const conn = client({ clientAuth: "post", clientId: "unit-client", clientSecret: "unit.secret-*_x y" });
    await clientAuthentication(conn, { tokenUrl: TOKEN_URL }, { now });
    for (const encoding of ["form", "raw"] as const) {
      const base64 = basicAuthorization("unit-client", "unit.secret-*_x y", encoding).slice("Basic ".length);
      assert.equal(redact(`the server echoed ${base64}`), "the server echoed [redacted]", encoding);
    }
    assert.equal(redact("body: unit%2Esecret%2D%2A%5Fx+y"), "body: [redacted]");
  });
});

import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { decodeJwt } from "jose";
import { loadPrivateKey } from "../../src/protocol/assertion.js";
import { CLIENT_ASSERTION_TYPE, clientAuthentication, clientSecretBasic, clientSecretPost, none, privateKeyJwt } from "../../src/protocol/client-auth.js";
import { requestToken } from "../../src/protocol/send.js";
import { buildTokenRequest } from "../../src/protocol/token-request.js";
import type { ClientAuth, OAuthClient } from "../../src/protocol/types.js";
import { redact } from "../../src/redact.js";
import { caught, client, deps, form, startServer } from "./helpers.js";

const NOW = Date.UTC(2030, 0, 1);
const now = () => NOW;
const TOKEN_URL = "https://auth.example.com/token";

/** A client built by hand, with no config in sight: what a library user of the protocol layer writes. */
function plainClient(auth: ClientAuth, extra: Partial<OAuthClient> = {}): OAuthClient {
  return {
    name: "plain",
    clientId: "plain-id",
    auth,
    options: {
      scopes: ["a", "b"],
      scopeSeparator: " ",
      tokenParams: {},
      refreshParams: {},
      headers: {},
      body: "form",
      timeoutMs: 5_000,
      allowInsecureHttp: false,
    },
    grant: {},
    authorization: { params: {}, pkce: "S256" },
    response: { anyTokenType: false },
    ...extra,
  };
}

describe("the protocol layer's own types", () => {
  it("builds a token request from a client, endpoints, a client authentication value and the grant alone", async () => {
    const req = await buildTokenRequest(plainClient(clientSecretPost("plain-id", "plain-secret-1")), { tokenUrl: TOKEN_URL }, { kind: "client_credentials" }, { now });
    assert.equal(req.url, TOKEN_URL);
    assert.deepEqual(form(req.body), { grant_type: "client_credentials", scope: "a b", client_id: "plain-id", client_secret: "plain-secret-1" });
    assert.equal(req.headers.Authorization, undefined);
  });

  it("applies each client authentication value to headers or body", async () => {
    const endpoints = { tokenUrl: TOKEN_URL };
    const basic = await clientAuthentication({ auth: clientSecretBasic("id", "se cret", "form") }, endpoints, { now });
    assert.equal(Buffer.from(basic.headers.Authorization!.slice(6), "base64").toString(), "id:se+cret");
    const raw = await clientAuthentication({ auth: clientSecretBasic("id", "se cret", "raw") }, endpoints, { now });
    assert.equal(Buffer.from(raw.headers.Authorization!.slice(6), "base64").toString(), "id:se cret");
    assert.deepEqual(await clientAuthentication({ auth: none("pub") }, endpoints, { now }), { headers: {}, params: { client_id: "pub" } });
    assert.deepEqual(await clientAuthentication({ auth: none() }, endpoints, { now }), { headers: {}, params: {} });
    const pem = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const key = loadPrivateKey(pem, { field: "key" });
    const jwt = await clientAuthentication({ auth: privateKeyJwt("id", key, { ttlMs: 60_000, field: "key", audienceField: "aud" }) }, { issuer: "https://issuer.example" }, { now });
    assert.equal(jwt.params.client_assertion_type, CLIENT_ASSERTION_TYPE);
    assert.deepEqual(
      { ...decodeJwt(jwt.params.client_assertion!), jti: undefined },
      { iss: "id", sub: "id", aud: "https://issuer.example", iat: NOW / 1000, exp: NOW / 1000 + 60, jti: undefined },
    );
  });

  it("registers nothing while building: the client's secrets where the client is built, a request's short-lived ones through onSecret", async () => {
    const refreshToken = "rt-never-registered-by-a-builder-1";
    await buildTokenRequest(plainClient(clientSecretPost("plain-id", "builder-secret-xyz")), { tokenUrl: TOKEN_URL }, { kind: "refresh_token", refreshToken }, { now });
    assert.equal(redact(`echo ${refreshToken}`), `echo ${refreshToken}`);
    assert.equal(redact("echo builder-secret-xyz"), "echo builder-secret-xyz");

    const server = await startServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ access_token: "at-1", token_type: "Bearer" }));
    });
    try {
      const seen: string[] = [];
      const sent = plainClient(none("plain-id"), { onSecret: (value) => seen.push(value), options: { ...plainClient(none()).options, allowInsecureHttp: true } });
      await requestToken(sent, { tokenUrl: `${server.url}/token` }, { kind: "refresh_token", refreshToken }, deps);
      assert.deepEqual(seen, [refreshToken]);
    } finally {
      await server.close();
    }

    // Built from a connection, the client registers its secret (every encoding) and its password once.
    client({ clientAuth: "basic", clientId: "conn-id", clientSecret: "conn-secret-abc", password: "conn-password-xyz" });
    assert.equal(redact("echo conn-secret-abc"), "echo [redacted]");
    assert.equal(redact("echo conn-password-xyz"), "echo [redacted]");
  });

  it("a connection missing its secret gets a client authentication that fails when a request is built, naming the field", async () => {
    const err = await caught(() => buildTokenRequest(client({ clientAuth: "post", clientSecret: undefined }), { tokenUrl: TOKEN_URL }, { kind: "client_credentials" }, { now }));
    assert.equal(err.code, "config_invalid");
    assert.equal(err.field, "connections.test.client_secret");
  });

  it("no protocol file imports the config layer or registers secrets itself", () => {
    const dir = fileURLToPath(new URL("../../src/protocol/", import.meta.url));
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
      const text = readFileSync(`${dir}${file}`, "utf8");
      assert.doesNotMatch(text, /from "\.\.\/config\//, file);
      assert.doesNotMatch(text, /registerSecret/, file);
    }
  });
});

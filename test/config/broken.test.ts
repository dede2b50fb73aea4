import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TokenSmithError } from "../../src/errors.js";
import { loadConfig } from "../../src/config/load.js";
import { resolveConnection, resolveGatewayConfig, resolveStoreConfig } from "../../src/config/resolve.js";

/**
 * Broken configs, each refused with `config_invalid`, the field path named, and no secret
 * of the config anywhere in the error.
 */

const SECRET = "Sup3r-Secret-Value-42";
const ENV = { HOME: "/nonexistent-home" };
const OK = { token_url: "https://auth.example.com/token", client_id: "client", client_secret: SECRET };
const USER = { ...OK, authorization_url: "https://auth.example.com/authorize" };
const KEY = Buffer.alloc(32, 1).toString("base64");

interface Case {
  title: string;
  config: Record<string, unknown>;
  field: string;
  /** Where the error shows: at load (default), or when the connection / store is resolved. */
  stage?: "load" | "resolve" | "store" | "gateway";
  env?: NodeJS.ProcessEnv;
  hint?: RegExp;
  /** More secret values this config holds. */
  secrets?: string[];
}

const conn = (a: Record<string, unknown>) => ({ connections: { a } });

const CASES: Case[] = [
  { title: "an unknown top-level field", config: { conections: {} }, field: "conections", hint: /did you mean connections/ },
  { title: "a misspelt connection field holding a secret", config: conn({ ...OK, client_secert: "typo-secret-value" }), field: "connections.a.client_secert", hint: /client_secret/, secrets: ["typo-secret-value"] },
  { title: "scopes of the wrong type", config: conn({ ...OK, scopes: 42 }), field: "connections.a.scopes" },
  { title: "an unknown grant", config: conn({ ...OK, grant: "magic" }), field: "connections.a.grant" },
  { title: "token_headers replacing Accept (SPEC §2.13)", config: conn({ ...OK, token_headers: { "X-Ok": "1", accept: "text/html" } }), field: "connections.a.token_headers.accept", hint: /remove it/ },
  { title: "an unknown client_auth", config: conn({ ...OK, client_auth: "certificate" }), field: "connections.a.client_auth" },
  { title: "a timeout that is not a duration", config: conn({ ...OK, timeout: "5 minutes" }), field: "connections.a.timeout", hint: /90s/ },
  { title: "a default_ttl that is neither a duration nor never", config: conn({ ...OK, default_ttl: "forever" }), field: "connections.a.default_ttl", hint: /never/ },
  { title: "a zero timeout", config: conn({ ...OK, timeout: 0 }), field: "connections.a.timeout" },
  { title: "an ftp token URL", config: conn({ ...OK, token_url: "ftp://x" }), field: "connections.a.token_url" },
  { title: "plain http to a remote host", config: conn({ ...OK, token_url: "http://auth.example.com/token" }), field: "connections.a.token_url", hint: /allow_insecure_http/ },
  { title: "a token URL that is not absolute", config: conn({ ...OK, token_url: "auth.example.com/token" }), field: "connections.a.token_url" },
  { title: "credentials inside a URL", config: conn({ ...OK, token_url: `https://user:${SECRET}@auth.example.com/token` }), field: "connections.a.token_url" },
  { title: "no token URL and no issuer", config: conn({ client_id: "c", client_secret: SECRET }), field: "connections.a.token_url" },
  { title: "no client_id", config: conn({ token_url: OK.token_url, client_secret: SECRET }), field: "connections.a.client_id" },
  { title: "a numeric client_id", config: conn({ ...OK, client_id: 1234567890 }), field: "connections.a.client_id", hint: /quote/ },
  { title: "the password grant without a password", config: conn({ ...OK, grant: "password", username: "ann" }), field: "connections.a.password" },
  { title: "the password grant without a username", config: conn({ ...OK, grant: "password", password: "pw-secret-value" }), field: "connections.a.username", secrets: ["pw-secret-value"] },
  { title: "username and password without a grant", config: conn({ ...OK, username: "ann", password: "pw-secret-value" }), field: "connections.a.grant", hint: /grant: password/, secrets: ["pw-secret-value"] },
  { title: "jwt_bearer without assertion.sub", config: conn({ ...OK, grant: "jwt_bearer", private_key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----" }), field: "connections.a.assertion.sub" },
  { title: "jwt_bearer with nothing to sign with", config: conn({ token_url: OK.token_url, client_id: "c", grant: "jwt_bearer", assertion: { sub: "svc" } }), field: "connections.a.private_key" },
  { title: "jwt_bearer signing with a secret but no HS algorithm", config: conn({ ...OK, grant: "jwt_bearer", assertion: { sub: "svc" } }), field: "connections.a.assertion.alg" },
  { title: "private_key_jwt without a private key", config: conn({ ...OK, client_auth: "private_key_jwt" }), field: "connections.a.private_key" },
  { title: "client_secret_jwt without a secret", config: conn({ token_url: OK.token_url, client_id: "c", client_auth: "client_secret_jwt" }), field: "connections.a.client_secret" },
  { title: "client_credentials without any client authentication", config: conn({ token_url: OK.token_url, client_id: "c" }), field: "connections.a.client_secret" },
  { title: "a private key given as a path", config: conn({ ...OK, private_key: "./keys/private.pem" }), field: "connections.a.private_key", hint: /\$\{file:/ },
  { title: "cache: none for a grant with refresh tokens", config: conn({ ...USER, cache: "none" }), field: "connections.a.cache", hint: /process/ },
  { title: "an unknown provider", config: conn({ ...OK, provider: "gogle" }), field: "connections.a.provider", hint: /google/ },
  { title: "an unfilled URL template", config: conn({ ...OK, token_url: "https://{region}.example.com/token" }), field: "connections.a.token_url", hint: /vars/ },
  { title: "a connection name with a space", config: { connections: { "bad name": OK } }, field: "connections.bad name" },
  { title: "a header value without {token}", config: conn({ ...OK, header: { value: "Bearer" } }), field: "connections.a.header.value" },
  { title: "a response mapping that is not JSONPath", config: conn({ ...OK, response: { access_token: "data.token" } }), field: "connections.a.response.access_token" },
  { title: "a redirect URI over plain http to a remote host", config: conn({ ...USER, redirect_uri: "http://app.example.com/cb" }), field: "connections.a.redirect_uri" },
  { title: "device_code without a device endpoint", config: conn({ ...OK, grant: "device_code" }), field: "connections.a.device_authorization_url" },
  { title: "an unknown assertion algorithm", config: conn({ ...OK, assertion: { alg: "RS999" } }), field: "connections.a.assertion.alg" },
  { title: "an API retry on a status that does not exist", config: conn({ ...OK, api_retry: { on: [700] } }), field: "connections.a.api_retry.on[0]" },
  { title: "an empty scope separator", config: conn({ ...OK, scope_separator: "" }), field: "connections.a.scope_separator" },
  { title: "an unterminated reference", config: conn({ ...OK, client_secret: "${env:BILLING_SECRET" }), field: "connections.a.client_secret" },
  { title: "an unknown kind of reference around a pasted secret", config: conn({ ...OK, client_secret: `\${${SECRET}}` }), field: "connections.a.client_secret" },
  { title: "a postgres store without a key", config: { store: { type: "postgres", url: `postgres://u:${SECRET}@db/x` } }, field: "store.key" },
  { title: "a store key of the wrong length", config: { store: { key: "c2hvcnQta2V5LXNlY3JldA==" } }, field: "store.key", secrets: ["c2hvcnQta2V5LXNlY3JldA=="] },
  { title: "a store URL with the wrong scheme", config: { store: { type: "redis", url: `postgres://u:${SECRET}@db/x`, key: KEY } }, field: "store.url" },
  { title: "a postgres option on a redis store", config: { store: { type: "redis", url: "redis://localhost", key: KEY, schema: "public" } }, field: "store.schema" },
  { title: "a short gateway key", config: { gateway: { api_keys: [{ key: "short-key" }] } }, field: "gateway.api_keys[0].key", secrets: ["short-key"] },
  { title: "a gateway key with a space inside (it can never match a Bearer header)", config: { gateway: { api_keys: [{ key: "gateway key 0123456789abcdef" }] } }, field: "gateway.api_keys[0].key", hint: /openssl rand/, secrets: ["gateway key 0123456789abcdef"] },
  { title: "a gateway key with a trailing tab", config: { gateway: { api_keys: [{ key: "gateway-key-0123456789abcdef\t" }] } }, field: "gateway.api_keys[0].key", secrets: ["gateway-key-0123456789abcdef"] },
  { title: "a resolved gateway key with a line break inside, at gateway start", config: { gateway: { api_keys: [{ key: "${env:GW}" }] } }, env: { GW: "gateway-key-0123\n456789abcdef" }, stage: "gateway", field: "gateway.api_keys[0].key", hint: /openssl rand/, secrets: ["gateway-key-0123", "456789abcdef"] },
  { title: "a resolved gateway key that is too short, at gateway start", config: { gateway: { api_keys: [{ key: "${env:GW}" }] } }, env: { GW: "short-gw-key" }, stage: "gateway", field: "gateway.api_keys[0].key", hint: /openssl rand/, secrets: ["short-gw-key"] },
  { title: "a gateway.hosts entry with a port", config: { gateway: { hosts: ["gateway.example.com:8443"] } }, field: "gateway.hosts[0]", hint: /hosts: \[gateway\.example\.com\]/ },
  { title: "a gateway.hosts entry that is a URL", config: { gateway: { hosts: ["ok.example.com", "https://gateway.example.com"] } }, field: "gateway.hosts[1]" },
  { title: "a gateway key limited to an unknown connection", config: { gateway: { api_keys: [{ key: SECRET, connections: ["nope"] }] } }, field: "gateway.api_keys[0].connections[0]" },
  { title: "a gateway on a public address without TLS", config: { gateway: { host: "0.0.0.0", api_keys: [{ key: SECRET }] } }, field: "gateway.host", hint: /tls/ },
  { title: "a missing environment variable, at resolve", config: conn({ ...OK, client_secret: "${env:MISSING_SECRET}" }), stage: "resolve", field: "connections.a.client_secret", hint: /MISSING_SECRET/ },
  { title: "a missing file, at resolve", config: conn({ ...OK, private_key: "${file:/nonexistent/key.pem}" }), stage: "resolve", field: "connections.a.private_key" },
  { title: "a resolved private key that is not a key", config: conn({ ...OK, private_key: "${env:PK}" }), env: { PK: "not-a-key-secret-value" }, stage: "resolve", field: "connections.a.private_key", secrets: ["not-a-key-secret-value"] },
  { title: "a resolved store key of the wrong length", config: { store: { key: "${env:K}" } }, env: { K: "dG9vLXNob3J0LXNlY3JldA==" }, stage: "store", field: "store.key", secrets: ["dG9vLXNob3J0LXNlY3JldA=="] },
];

async function failure(c: Case): Promise<unknown> {
  const env = { ...ENV, ...c.env };
  try {
    const loaded = await loadConfig({ config: c.config, cwd: "/", env });
    if (c.stage === "resolve") resolveConnection(loaded, "a", { env });
    if (c.stage === "store") resolveStoreConfig(loaded, env);
    if (c.stage === "gateway") resolveGatewayConfig(loaded, env);
  } catch (err) {
    return err;
  }
  return assert.fail(`expected ${c.title} to be refused`);
}

describe("broken configs", () => {
  it("has at least 25 cases", () => assert.ok(CASES.length >= 25));

  for (const c of CASES) {
    it(`refuses ${c.title}, naming ${c.field}`, async () => {
      const err = await failure(c);
      assert.ok(err instanceof TokenSmithError, String(err));
      assert.equal(err.code, "config_invalid");
      assert.equal(err.field, c.field, err.message);
      assert.ok(err.message.startsWith(`${c.field}: `), err.message);
      if (c.hint) assert.match(err.hint ?? "", c.hint);
      const shown = `${err.message}\n${err.hint ?? ""}\n${JSON.stringify(err.toJSON())}`;
      for (const secret of [SECRET, ...(c.secrets ?? [])]) assert.ok(!shown.includes(secret), `secret shown in: ${shown}`);
    });
  }
});

describe("the connection a config error belongs to", () => {
  it("is named for a schema error inside a connection, even one with dots in its name", async () => {
    const err = await failure({ title: "a typo", field: "connections.api.v2.scope", config: { connections: { "api.v2": { ...OK, scope: "a" } } } });
    assert.ok(err instanceof TokenSmithError);
    assert.equal(err.field, "connections.api.v2.scope");
    assert.equal(err.connection, "api.v2");
  });

  it("is null for an error outside the connections", async () => {
    const err = await failure({ title: "a bad store", field: "store.type", config: { store: { type: "floppy" }, connections: { billing: OK } } });
    assert.ok(err instanceof TokenSmithError);
    assert.equal(err.toJSON().connection, null);
  });
});

import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config/load.js";
import type { TokenSmithError } from "../../src/errors.js";
import { resolveConnection, resolveGatewayConfig, resolveStoreConfig } from "../../src/config/resolve.js";

const ENV = { HOME: "/nonexistent-home" };

/** Resolves one connection of a config given as an object. */
async function resolveOne(connection: Record<string, unknown>, env: NodeJS.ProcessEnv = ENV) {
  const loaded = await loadConfig({ config: { connections: { conn: connection } }, cwd: "/", env });
  return resolveConnection(loaded, "conn", { env });
}

const CLIENT = { token_url: "https://auth.example.com/token", client_id: "client", client_secret: "s3cret-value" };

describe("connection defaults", () => {
  it("fills every default of SPEC §1 for a client_credentials connection (client_auth auto with a secret)", async () => {
    const { connection, warnings } = await resolveOne(CLIENT);
    assert.deepEqual(warnings, []);
    assert.equal(connection.grant, "client_credentials");
    assert.equal(connection.clientAuth, "auto");
    assert.equal(connection.account, "conn");
    assert.equal(connection.pkce, "S256");
    assert.equal(connection.tokenBody, "form");
    assert.equal(connection.basicEncoding, "form");
    assert.deepEqual(connection.header, { name: "Authorization", value: "Bearer {token}" });
    assert.equal(connection.defaultTtl, 3_600_000);
    assert.equal(connection.cache, "shared");
    assert.equal(connection.timeoutMs, 30_000);
    assert.equal(connection.scopeSeparator, " ");
    assert.equal(connection.assertion.ttlMs, 300_000);
    assert.deepEqual(connection.assertion.claims, {});
    assert.equal(connection.allowInsecureHttp, false);
    assert.equal(connection.apiRetry, undefined);
    assert.equal(connection.refreshMarginMs, undefined);
    assert.deepEqual(connection.scopes, []);
    assert.deepEqual(connection.tokenParams, {});
  });

  it("defaults to authorization_code when an authorization URL is known", async () => {
    const { connection } = await resolveOne({ authorization_url: "https://auth.example.com/authorize", token_url: "https://auth.example.com/token", client_id: "c" });
    assert.equal(connection.grant, "authorization_code");
    assert.equal(connection.clientAuth, "none");
  });

  it("prefers private_key_jwt when a private key is set", async () => {
    const { connection } = await resolveOne({ ...CLIENT, private_key: { kty: "EC", crv: "P-256", x: "x", y: "y", d: "d" } });
    assert.equal(connection.clientAuth, "private_key_jwt");
    assert.equal(JSON.parse(connection.privateKey ?? "").kty, "EC");
  });

  it("does not use the private key for client auth on jwt_bearer", async () => {
    const pem = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----";
    const { connection } = await resolveOne({ ...CLIENT, grant: "jwt_bearer", private_key: pem, assertion: { sub: "svc@example.com", ttl: "2m" } });
    assert.equal(connection.clientAuth, "auto");
    assert.equal(connection.assertion.sub, "svc@example.com");
    assert.equal(connection.assertion.ttlMs, 120_000);
  });

  it("parses durations, scope strings, api_retry and allowed origins", async () => {
    const { connection } = await resolveOne({
      ...CLIENT,
      scopes: "read  write read",
      timeout: "1.5s",
      refresh_margin: "2m",
      default_ttl: "never",
      api_retry: { max: 2 },
      allowed_origins: ["HTTPS://API.Example.com:443/v1/"],
    });
    assert.deepEqual(connection.scopes, ["read", "write"]);
    assert.equal(connection.timeoutMs, 1500);
    assert.equal(connection.refreshMarginMs, 120_000);
    assert.equal(connection.defaultTtl, "never");
    assert.deepEqual(connection.apiRetry, { max: 2, on: [429, 503] });
    assert.deepEqual(connection.allowedOrigins, ["https://api.example.com"]);
  });

  it("allows plain http on loopback, and elsewhere only with allow_insecure_http (with a warning)", async () => {
    for (const host of ["127.0.0.1:8080", "127.9.9.9", "[::1]:9000", "localhost:3000"]) {
      const { warnings } = await resolveOne({ ...CLIENT, token_url: `http://${host}/token` });
      assert.deepEqual(warnings, [], host);
    }
    const { warnings } = await resolveOne({ ...CLIENT, token_url: "http://auth.internal/token", allow_insecure_http: true });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /plain http/);
  });

  it("warns about the password grant and pkce plain", async () => {
    const password = await resolveOne({ ...CLIENT, grant: "password", username: "ann", password: "pw-value-1" });
    assert.ok(password.warnings.some((w) => /RFC 9700/.test(w)));
    const plain = await resolveOne({ ...CLIENT, authorization_url: "https://auth.example.com/authorize", pkce: "plain" });
    assert.ok(plain.warnings.some((w) => /pkce: plain/.test(w)));
  });

  it("treats a custom grant_type as a non-interactive request with its own account", async () => {
    const { connection } = await resolveOne({ ...CLIENT, grant_type: "fb_exchange_token", token_params: { fb_exchange_token: "abc" } });
    assert.equal(connection.grant, "client_credentials");
    assert.equal(connection.grantType, "fb_exchange_token");
  });
});

describe("presets", () => {
  it("applies Microsoft's templated endpoints with the default tenant", async () => {
    const { connection } = await resolveOne({ provider: "microsoft", client_id: "app", scopes: ["User.Read"] });
    assert.equal(connection.grant, "authorization_code");
    assert.equal(connection.tokenUrl, "https://login.microsoftonline.com/common/oauth2/v2.0/token");
    assert.equal(connection.authorizationUrl, "https://login.microsoftonline.com/common/oauth2/v2.0/authorize");
    assert.equal(connection.issuerTemplate, "https://login.microsoftonline.com/{tenantid}/v2.0");
    assert.deepEqual(connection.scopes, ["User.Read", "offline_access"]);
    assert.deepEqual(connection.refreshParams, { scope: "User.Read offline_access" });
    assert.deepEqual(connection.vars, { tenant: "common" });
  });

  it("fills templates from the connection's vars, which may be references", async () => {
    const env = { ...ENV, TENANT: "contoso.onmicrosoft.com" };
    const { connection } = await resolveOne({ provider: "microsoft", client_id: "app", vars: { tenant: "${env:TENANT}" } }, env);
    assert.equal(connection.tokenUrl, "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
  });

  it("lets the connection's own values win and merges parameter maps", async () => {
    const { connection } = await resolveOne({
      provider: "google",
      client_id: "app",
      token_url: "https://proxy.example.com/token",
      authorization_params: { prompt: "select_account", login_hint: "ann@example.com" },
      token_headers: { "user-agent": "mine" },
    });
    assert.equal(connection.tokenUrl, "https://proxy.example.com/token");
    assert.equal(connection.authorizationUrl, "https://accounts.google.com/o/oauth2/v2/auth");
    assert.deepEqual(connection.authorizationParams, { access_type: "offline", prompt: "select_account", login_hint: "ann@example.com" });
    assert.equal(connection.issuer, "https://accounts.google.com");
  });

  it("takes GitHub's default_ttl of never unless the connection sets one", async () => {
    assert.equal((await resolveOne({ provider: "github", client_id: "app" })).connection.defaultTtl, "never");
    assert.equal((await resolveOne({ provider: "github", client_id: "app", default_ttl: 60 })).connection.defaultTtl, 60_000);
  });

  it("uses the connection's own templates and vars without a preset", async () => {
    const { connection } = await resolveOne({ ...CLIENT, token_url: "https://{region}.auth.example.com/token", vars: { region: "eu" } });
    assert.equal(connection.tokenUrl, "https://eu.auth.example.com/token");
  });

  it("accepts vars used only in parameter templates", async () => {
    const { connection } = await resolveOne({ ...CLIENT, token_params: { tenant_id: "{tenant}" }, vars: { tenant: "acme" } });
    assert.deepEqual(connection.tokenParams, { tenant_id: "acme" });
  });

  it("refuses at load a var no template uses, naming it and suggesting the one meant", async () => {
    const err = await loadConfig({ config: { connections: { ms: { provider: "microsoft", client_id: "app", vars: { tennant: "contoso" } } } }, cwd: "/", env: ENV }).then(
      () => assert.fail("expected a config error"),
      (e: TokenSmithError) => e,
    );
    assert.equal(err.code, "config_invalid");
    assert.equal(err.field, "connections.ms.vars.tennant");
    assert.match(err.hint ?? "", /did you mean tenant\?/);
  });

  it("does not judge vars at load while a URL is a reference that may hold the template, and does when it is resolved", async () => {
    const config = { connections: { c: { token_url: "${env:TOKEN_URL}", client_id: "app", client_secret: "s3cret-value", vars: { tenant: "acme" } } } };
    const loaded = await loadConfig({ config, cwd: "/", env: ENV });
    const used = resolveConnection(loaded, "c", { env: { ...ENV, TOKEN_URL: "https://login.example.com/{tenant}/token" } });
    assert.equal(used.connection.tokenUrl, "https://login.example.com/acme/token");
    assert.throws(() => resolveConnection(loaded, "c", { env: { ...ENV, TOKEN_URL: "https://login.example.com/token" } }), /vars\.tenant/);
  });
});

describe("store and gateway sections", () => {
  it("defaults to the file store under $XDG_STATE_HOME or ~/.local/state", async () => {
    const loaded = await loadConfig({ config: {}, cwd: "/", env: ENV });
    assert.deepEqual(resolveStoreConfig(loaded, ENV), { type: "file", dir: "/nonexistent-home/.local/state/tokensmith" });
    assert.equal(resolveStoreConfig(loaded, { ...ENV, XDG_STATE_HOME: "/state" }).dir, "/state/tokensmith");
  });

  it("resolves the store's references, ~ and key", async () => {
    const key = Buffer.alloc(32, 7).toString("base64");
    const env = { ...ENV, KEY: key, PG: "postgres://u:p@db.example.com/tokens" };
    const loaded = await loadConfig({ config: { store: { type: "postgres", url: "${env:PG}", key: "${env:KEY}", old_keys: [key], schema: "auth" } }, cwd: "/", env });
    assert.deepEqual(resolveStoreConfig(loaded, env), { type: "postgres", url: env.PG, key, oldKeys: [key], schema: "auth" });
    const file = await loadConfig({ config: { store: { dir: "~/state" } }, cwd: "/", env });
    assert.equal(resolveStoreConfig(file, env).dir, "/nonexistent-home/state");
  });

  it("fills gateway defaults and reads TLS files relative to the config", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tokensmith-gw-"));
    try {
      await writeFile(join(dir, "cert.pem"), "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n");
      await writeFile(join(dir, "key.pem"), "-----BEGIN PRIVATE KEY-----\nY\n-----END PRIVATE KEY-----\n");
      const config = "gateway:\n  host: 0.0.0.0\n  api_keys:\n    - key: ${env:GW}\n      connections: [a]\n  tls: { cert: cert.pem, key: ./key.pem }\nconnections:\n  a: { token_url: 'https://a.example/t', client_id: c, client_secret: s3cret-value }\n";
      await writeFile(join(dir, "tokensmith.yaml"), config);
      const env = { ...ENV, GW: "gateway-key-0123456789" };
      const loaded = await loadConfig({ config: "tokensmith.yaml", cwd: dir, env });
      const gateway = resolveGatewayConfig(loaded, env);
      assert.equal(gateway.host, "0.0.0.0");
      assert.equal(gateway.port, 7373);
      assert.deepEqual(gateway.apiKeys, [{ key: "gateway-key-0123456789", connections: ["a"] }]);
      assert.match(gateway.tls?.cert ?? "", /BEGIN CERTIFICATE/);
      assert.match(gateway.tls?.key ?? "", /BEGIN PRIVATE KEY/);
      const defaults = resolveGatewayConfig(await loadConfig({ config: {}, cwd: dir, env }), env);
      assert.deepEqual(defaults, { host: "127.0.0.1", port: 7373, apiKeys: [], hosts: [] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

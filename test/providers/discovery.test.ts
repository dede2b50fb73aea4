import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { discover, discoveryUrls, issuerMatches, metadataTtlMs, resolveEndpoints, type DiscoveryCacheEntry } from "../../src/providers/discovery.js";
import type { FetchLike } from "../../src/protocol/types.js";
import { createMemoryStore } from "../../src/store/memory.js";
import { TokenSmith } from "../../src/tokensmith.js";
import { caught, connection, deps, json, startServer, type TestServer } from "../protocol/helpers.js";

/** A memory cache that records what was stored. */
function memoryCache() {
  const entries = new Map<string, DiscoveryCacheEntry>();
  return { entries, get: async (key: string) => entries.get(key), set: async (key: string, value: DiscoveryCacheEntry) => void entries.set(key, value) };
}

describe("discovery (OIDC Discovery, RFC 8414)", () => {
  let server: TestServer;
  let base: string;
  /** Per-path answers, set by each test. */
  let routes: Record<string, (res: Parameters<Parameters<typeof startServer>[0]>[1]) => void>;

  const metadata = (issuer: string, extra: Record<string, unknown> = {}) => ({
    issuer,
    authorization_endpoint: `${base}/authorize`,
    token_endpoint: `${base}/token`,
    revocation_endpoint: `${base}/revoke`,
    device_authorization_endpoint: `${base}/device`,
    jwks_uri: `${base}/jwks`,
    code_challenge_methods_supported: ["S256"],
    authorization_response_iss_parameter_supported: true,
    ...extra,
  });

  before(async () => {
    server = await startServer((req, res) => {
      const route = routes[req.path];
      if (route) return route(res);
      json(res, 404, { error: "not_found" });
    });
    base = server.url;
  });
  beforeEach(() => {
    routes = {};
    server.requests.length = 0;
  });
  after(() => server.close());

  it("reads the OIDC well-known document and merges it under the configured endpoints", async () => {
    routes["/.well-known/openid-configuration"] = (res) => json(res, 200, metadata(base));
    const conn = connection({ issuer: base, tokenUrl: `${base}/my-token` });
    const endpoints = await discover(conn, deps);
    assert.equal(endpoints.tokenUrl, `${base}/my-token`);
    assert.equal(endpoints.authorizationUrl, `${base}/authorize`);
    assert.equal(endpoints.revocationUrl, `${base}/revoke`);
    assert.equal(endpoints.deviceAuthorizationUrl, `${base}/device`);
    assert.equal(endpoints.jwksUri, `${base}/jwks`);
    assert.equal(endpoints.issuer, base);
    assert.equal(endpoints.authorizationResponseIssParameterSupported, true);
    assert.deepEqual(endpoints.codeChallengeMethodsSupported, ["S256"]);
  });

  it("falls back to RFC 8414's form, with the well-known segment before the issuer's path", async () => {
    routes["/.well-known/oauth-authorization-server/tenant1"] = (res) => json(res, 200, metadata(`${base}/tenant1`));
    const endpoints = await discover(connection({ issuer: `${base}/tenant1` }), deps);
    assert.equal(endpoints.tokenUrl, `${base}/token`);
    assert.deepEqual(server.requests.map((r) => r.path), ["/tenant1/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/tenant1"]);
  });

  it("moves on when the OIDC path answers with an HTML page", async () => {
    routes["/app/.well-known/openid-configuration"] = (res) => {
      res.writeHead(200, { "Content-Type": "text/html" });
      res.end("<html>single-page app</html>");
    };
    routes["/.well-known/oauth-authorization-server/app"] = (res) => json(res, 200, metadata(`${base}/app`));
    const endpoints = await discover(connection({ issuer: `${base}/app` }), deps);
    assert.equal(endpoints.tokenUrl, `${base}/token`);
  });

  it("uses discovery_url when set", async () => {
    routes["/custom/metadata.json"] = (res) => json(res, 200, metadata(base));
    const endpoints = await discover(connection({ issuer: base, discoveryUrl: `${base}/custom/metadata.json` }), deps);
    assert.equal(endpoints.tokenUrl, `${base}/token`);
    assert.deepEqual(server.requests.map((r) => r.path), ["/custom/metadata.json"]);
  });

  /** A redirect, as Django OAuth Toolkit's URLconf answers a path without its trailing slash. */
  const redirect = (location: string, status = 301) => (res: Parameters<(typeof routes)[string]>[0]) => {
    res.writeHead(status, { Location: location });
    res.end();
  };

  it("follows Django OAuth Toolkit's same-origin redirect to the trailing-slash metadata path (SPEC §2.12)", async () => {
    routes["/o/.well-known/openid-configuration"] = redirect("/o/.well-known/openid-configuration/");
    routes["/o/.well-known/openid-configuration/"] = (res) => json(res, 200, metadata(`${base}/o`));
    const endpoints = await discover(connection({ issuer: `${base}/o` }), deps);
    assert.equal(endpoints.tokenUrl, `${base}/token`);
    assert.deepEqual(server.requests.map((r) => r.path), ["/o/.well-known/openid-configuration", "/o/.well-known/openid-configuration/"]);
    assert.ok(server.requests.every((r) => r.method === "GET" && r.headers.authorization === undefined));
  });

  it("follows up to 3 same-origin redirects and refuses a fourth", async () => {
    routes["/.well-known/openid-configuration"] = redirect("/r1", 302);
    routes["/r1"] = redirect(`${base}/r2`, 307);
    routes["/r2"] = redirect("/r3", 308);
    routes["/r3"] = (res) => json(res, 200, metadata(base));
    assert.equal((await discover(connection({ issuer: base }), deps)).tokenUrl, `${base}/token`);
    routes["/r3"] = redirect("/r4");
    routes["/r4"] = (res) => json(res, 200, metadata(base));
    const err = await caught(() => discover(connection({ issuer: base }), deps));
    assert.equal(err.code, "invalid_response");
    assert.match(err.message, /more than 3 redirects/);
    assert.ok(!server.requests.some((r) => r.path === "/r4"));
  });

  it("refuses a redirect to another origin with a clear error, never asking it", async () => {
    const foreign = await startServer((_req, res) => json(res, 200, metadata(base)));
    try {
      routes["/.well-known/openid-configuration"] = redirect(`${foreign.url}/.well-known/openid-configuration`);
      const err = await caught(() => discover(connection({ issuer: base }), deps));
      assert.equal(err.code, "invalid_response");
      assert.match(err.message, /redirected to http:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration .*another origin is never followed/);
      assert.equal(foreign.requests.length, 0);
    } finally {
      await foreign.close();
    }
  });

  it("still checks the issuer of metadata reached by a redirect", async () => {
    routes["/.well-known/openid-configuration"] = redirect("/elsewhere/.well-known/openid-configuration");
    routes["/elsewhere/.well-known/openid-configuration"] = (res) => json(res, 200, metadata(`${base}/elsewhere`));
    const err = await caught(() => discover(connection({ issuer: base }), deps));
    assert.equal(err.code, "config_invalid");
    assert.equal(err.field, "connections.test.issuer");
  });

  it("refuses metadata for another issuer", async () => {
    routes["/.well-known/openid-configuration"] = (res) => json(res, 200, metadata("https://evil.example.com"));
    const err = await caught(() => discover(connection({ issuer: base }), deps));
    assert.equal(err.code, "config_invalid");
    assert.equal(err.field, "connections.test.issuer");
    assert.match(err.message, /evil\.example\.com/);
  });

  it("accepts an issuer that fits the preset's template", async () => {
    const template = `${base}/{tenantid}/v2.0`;
    routes["/common/v2.0/.well-known/openid-configuration"] = (res) => json(res, 200, metadata(`${base}/{tenantid}/v2.0`));
    const endpoints = await discover(connection({ issuer: `${base}/common/v2.0`, issuerTemplate: template }), deps);
    assert.equal(endpoints.tokenUrl, `${base}/token`);
  });

  it("matches issuer templates by path segment only", () => {
    const conn = connection({ issuer: "https://login.microsoftonline.com/common/v2.0", issuerTemplate: "https://login.microsoftonline.com/{tenantid}/v2.0" });
    assert.equal(issuerMatches(conn, "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"), true);
    assert.equal(issuerMatches(conn, "https://login.microsoftonline.com/{tenantid}/v2.0"), true);
    assert.equal(issuerMatches(conn, "https://login.microsoftonline.com/a/b/v2.0"), false);
    assert.equal(issuerMatches(conn, "https://login.microsoftonline.comXevil/x/v2.0"), false);
    assert.equal(issuerMatches(connection({ issuer: "https://accounts.google.com/" }), "https://accounts.google.com"), true);
  });

  it("refuses metadata whose endpoints use plain http off loopback", async () => {
    routes["/.well-known/openid-configuration"] = (res) => json(res, 200, metadata(base, { token_endpoint: "http://auth.example.com/token" }));
    const err = await caught(() => discover(connection({ issuer: base }), deps));
    assert.equal(err.code, "invalid_response");
    assert.match(err.message, /token_endpoint/);
  });

  it("reports a failing server as a transient error", async () => {
    routes["/.well-known/openid-configuration"] = (res) => json(res, 503, "unavailable", { "Retry-After": "3" });
    const err = await caught(() => discover(connection({ issuer: base }), deps));
    assert.equal(err.code, "invalid_response");
    assert.equal(err.status, 503);
    assert.equal(err.retryAfter, 3);
    assert.equal(err.connection, "test");
  });

  it("reports missing metadata with a hint about the issuer", async () => {
    const err = await caught(() => discover(connection({ issuer: `${base}/nothing` }), deps));
    assert.equal(err.code, "invalid_response");
    assert.equal(err.status, 404);
    assert.match(err.hint ?? "", /issuer/);
  });

  it("caches metadata for max-age and serves it without a request until then", async () => {
    routes["/.well-known/openid-configuration"] = (res) => json(res, 200, metadata(base), { "Cache-Control": "public, max-age=600" });
    const cache = memoryCache();
    let now = 1_000_000;
    const clocked = { ...deps, now: () => now, cache };
    await discover(connection({ issuer: base }), clocked);
    assert.equal([...cache.entries.values()][0]!.expiresAt, 1_000_000 + 600_000);
    now += 599_000;
    await discover(connection({ issuer: base }), clocked);
    assert.equal(server.requests.length, 1);
    now += 2_000;
    await discover(connection({ issuer: base }), clocked);
    assert.equal(server.requests.length, 2);
  });

  it("does not cache a document marked no-store", async () => {
    routes["/.well-known/openid-configuration"] = (res) => json(res, 200, metadata(base), { "Cache-Control": "no-store" });
    const cache = memoryCache();
    await discover(connection({ issuer: base }), { ...deps, cache });
    assert.equal(cache.entries.size, 0);
  });

  it("derives cache lifetimes from Cache-Control", () => {
    assert.equal(metadataTtlMs(null), 24 * 3600 * 1000);
    assert.equal(metadataTtlMs("max-age=60"), 60_000);
    assert.equal(metadataTtlMs("no-cache"), 0);
    assert.equal(metadataTtlMs("max-age=99999999"), 7 * 24 * 3600 * 1000);
  });

  it("builds the candidate URLs per OIDC and RFC 8414", () => {
    assert.deepEqual(discoveryUrls(connection({ issuer: "https://a.example.com" })), [
      "https://a.example.com/.well-known/openid-configuration",
      "https://a.example.com/.well-known/oauth-authorization-server",
    ]);
    assert.deepEqual(discoveryUrls(connection({ issuer: "https://a.example.com/t/1/" })), [
      "https://a.example.com/t/1/.well-known/openid-configuration",
      "https://a.example.com/.well-known/oauth-authorization-server/t/1",
    ]);
  });
});

describe("resolveEndpoints", () => {
  const noNetwork: FetchLike = async () => assert.fail("discovery must not run");

  it("skips discovery when the needed URLs are configured", async () => {
    const conn = connection({ issuer: "https://auth.example.com", tokenUrl: "https://auth.example.com/token" });
    const endpoints = await resolveEndpoints(conn, { ...deps, fetch: noNetwork });
    assert.deepEqual(endpoints, { issuer: "https://auth.example.com", tokenUrl: "https://auth.example.com/token" });
  });

  it("says which field is missing when nothing can supply it", async () => {
    const err = await caught(() => resolveEndpoints(connection(), { ...deps, fetch: noNetwork }));
    assert.equal(err.code, "config_invalid");
    assert.equal(err.field, "connections.test.token_url");
  });

  it("says not_supported for a missing revocation endpoint", async () => {
    const err = await caught(() => resolveEndpoints(connection({ tokenUrl: "https://a.example.com/t" }), { ...deps, fetch: noNetwork }, ["revocationUrl"]));
    assert.equal(err.code, "not_supported");
    assert.match(err.hint ?? "", /logout/);
  });

  it("discovers what the configuration lacks", async () => {
    const server = await startServer((req, res) => {
      const base = `http://${req.headers.host}`;
      json(res, 200, { issuer: base, token_endpoint: `${base}/token`, authorization_endpoint: `${base}/authorize` });
    });
    try {
      const endpoints = await resolveEndpoints(connection({ issuer: server.url }), deps, ["tokenUrl", "authorizationUrl"]);
      assert.equal(endpoints.tokenUrl, `${server.url}/token`);
      assert.equal(endpoints.authorizationUrl, `${server.url}/authorize`);
    } finally {
      await server.close();
    }
  });
});

describe("a connection configured by issuer alone, against Django OAuth Toolkit before 3.2", () => {
  it("gets a token: the metadata GET follows the trailing-slash redirect, the token POST is not redirected", async (t) => {
    // DOT < 3.2: metadata only at .../openid-configuration/, the standard path redirects there.
    const server = await startServer((req, res) => {
      const base = `http://${req.headers.host}`;
      if (req.path === "/o/.well-known/openid-configuration") {
        res.writeHead(301, { Location: "/o/.well-known/openid-configuration/" });
        return res.end();
      }
      if (req.path === "/o/.well-known/openid-configuration/") return json(res, 200, { issuer: `${base}/o`, token_endpoint: `${base}/o/token/` });
      if (req.path === "/o/token/" && req.method === "POST") return json(res, 200, { access_token: "dot-token", token_type: "Bearer", expires_in: 36000 });
      json(res, 404, { error: "not_found" });
    });
    t.after(() => server.close());
    const config = { connections: { dot: { issuer: `${server.url}/o`, client_id: "client", client_secret: "secret-value", grant: "client_credentials" } } };
    const ts = await TokenSmith.load({ config, env: {}, store: createMemoryStore(), refreshAhead: false });
    t.after(() => ts.close());
    assert.equal(await ts.connection("dot").accessToken(), "dot-token");
    assert.deepEqual(
      server.requests.map((r) => `${r.method} ${r.path}`),
      ["GET /o/.well-known/openid-configuration", "GET /o/.well-known/openid-configuration/", "POST /o/token/"],
    );
  });
});

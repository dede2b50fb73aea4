import assert from "node:assert/strict";
import { createHash, createPublicKey, X509Certificate } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServerResponse } from "node:http";
import { after, describe, test } from "node:test";
import { decodeProtectedHeader, jwtVerify } from "jose";
import { loadConfig } from "../../src/config/load.js";
import { resolveConnection } from "../../src/config/resolve.js";
import { TokenSmith } from "../../src/tokensmith.js";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { json, startServer, type Recorded, type TestServer } from "../protocol/helpers.js";

/**
 * The big providers' app-only logins against simulated token endpoints that enforce what the
 * providers document:
 * - Microsoft identity platform, client credentials flow and certificate credentials
 *   (learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow,
 *   .../certificate-credentials): scope is one resource's `/.default`, offline_access is refused,
 *   app-only needs a tenant (not common/organizations); a certificate assertion is a JWT with
 *   `x5t#S256` (SHA-256 thumbprint of the DER certificate) in its header, iss = sub = client id,
 *   aud = the v2.0 token URL, exp, nbf, jti, iat.
 * - Google OAuth 2.0 for server to server applications (developers.google.com/identity/protocols/oauth2/service-account):
 *   grant_type urn:ietf:params:oauth:grant-type:jwt-bearer, an RS256 assertion with iss = the
 *   service account's email, `scope` as a claim (space-delimited), aud = token_uri, exp ≤ iat + 1 h,
 *   `sub` only for domain-wide delegation; the key id as kid.
 */

/** An RSA key and its self-signed certificate, as an app registration's certificate credential (RS256, as Entra and Google sign). */
function rsaCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), "tokensmith-cert-"));
  dirs.push(dir);
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-subj", "/CN=tokensmith-app", "-days", "2"], { stdio: "ignore" });
  return { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") };
}

const servers: TestServer[] = [];
const dirs: string[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const APP_ID = "6731de76-14a6-49ae-97bc-6eba6914391e";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const entraError = (res: ServerResponse, status: number, error: string, description: string) => json(res, status, { error, error_description: description });

/** Microsoft Entra's v2.0 token endpoint, as documented, for one app with a secret and a certificate. */
function entra(secret: string, certificatePem: string, base: () => string) {
  const cert = new X509Certificate(certificatePem);
  const s256 = createHash("sha256").update(cert.raw).digest("base64url");
  return async (req: Recorded, res: ServerResponse) => {
    const tenant = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(req.path)?.[1];
    if (!tenant) return entraError(res, 404, "invalid_request", "not a token endpoint");
    const body = new URLSearchParams(req.body);
    if (body.get("grant_type") !== "client_credentials") return entraError(res, 400, "unsupported_grant_type", "");
    if (tenant === "common" || tenant === "organizations" || tenant === "consumers") return entraError(res, 400, "invalid_request", "AADSTS90002-like: app-only needs a tenant id or domain");
    const scopes = (body.get("scope") ?? "").split(" ").filter(Boolean);
    if (scopes.includes("offline_access")) return entraError(res, 400, "invalid_scope", "AADSTS70011: offline_access is not valid for the client credentials flow");
    if (scopes.length !== 1 || !scopes[0]!.endsWith("/.default")) return entraError(res, 400, "invalid_scope", "AADSTS1002012: scope must be one resource's /.default");
    const assertion = body.get("client_assertion");
    if (assertion) {
      if (body.get("client_assertion_type") !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") return entraError(res, 400, "invalid_client", "assertion type");
      const header = decodeProtectedHeader(assertion);
      if (header["x5t#S256"] !== s256) return entraError(res, 401, "invalid_client", "AADSTS700027: unknown certificate thumbprint");
      try {
        const { payload } = await jwtVerify(assertion, createPublicKey(certificatePem), { audience: `${base()}/${tenant}/oauth2/v2.0/token`, issuer: APP_ID, subject: APP_ID, algorithms: ["RS256", "PS256"] });
        if (!payload.jti || typeof payload.nbf !== "number" || typeof payload.exp !== "number") return entraError(res, 401, "invalid_client", "jti, nbf and exp required");
      } catch (err) {
        return entraError(res, 401, "invalid_client", `AADSTS700027: ${(err as Error).message}`);
      }
    } else if (body.get("client_id") !== APP_ID || body.get("client_secret") !== secret) {
      return entraError(res, 401, "invalid_client", "AADSTS7000215: invalid client secret");
    }
    return json(res, 200, { token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599, access_token: `graph-${tenant}-${header(assertion)}` });
  };
  function header(assertion: string | null) {
    if (!assertion) return "secret";
    const h = decodeProtectedHeader(assertion);
    return h.x5t ? `cert-sha1-${h.x5t}` : "cert";
  }
}

async function tokenOf(connection: Record<string, unknown>): Promise<string> {
  const ts = await TokenSmith.load({ config: { store: { type: "memory" }, connections: { c: connection } }, env: {}, refreshAhead: false });
  try {
    return await ts.connection("c").accessToken();
  } finally {
    await ts.close();
  }
}

describe("Microsoft Entra app-only (client credentials)", () => {
  test("a client secret gets https://graph.microsoft.com/.default and no offline_access, at the tenant's v2.0 token URL", async () => {
    const pem = rsaCertificate();
    let url = "";
    const server = await startServer(entra("s3cret~Value.42", pem.cert, () => url));
    servers.push(server);
    url = server.url;
    const token = await tokenOf({ provider: "microsoft", grant: "client_credentials", client_id: APP_ID, client_secret: "s3cret~Value.42", token_url: `${url}/${TENANT}/oauth2/v2.0/token`, allow_insecure_http: true });
    assert.equal(token, `graph-${TENANT}-secret`);
    const body = new URLSearchParams(server.requests.at(-1)!.body);
    assert.equal(body.get("scope"), "https://graph.microsoft.com/.default");
  });

  test("a certificate credential: private_key_jwt with x5t#S256 (and x5t with assertion.x5t: sha1), aud the v2.0 token URL", async () => {
    const pem = rsaCertificate();
    let url = "";
    const server = await startServer(entra("unused", pem.cert, () => url));
    servers.push(server);
    url = server.url;
    const base = { provider: "microsoft", grant: "client_credentials", client_id: APP_ID, private_key: pem.key, certificate: pem.cert, token_url: `${url}/${TENANT}/oauth2/v2.0/token`, allow_insecure_http: true };
    assert.equal(await tokenOf(base), `graph-${TENANT}-cert`);
    const sha1 = createHash("sha1").update(new X509Certificate(pem.cert).raw).digest("base64url");
    assert.equal(await tokenOf({ ...base, assertion: { x5t: "sha1" } }), `graph-${TENANT}-cert-sha1-${sha1}`);
    // Another resource's /.default replaces Graph's (Entra takes one resource per request).
    await tokenOf({ ...base, scopes: ["api://reports/.default"] });
    assert.equal(new URLSearchParams(server.requests.at(-1)!.body).get("scope"), "api://reports/.default");
  });

  test("a certificate that is not a PEM certificate is a config error naming the field", async () => {
    const ts = await TokenSmith.load({ config: { store: { type: "memory" }, connections: { c: { provider: "microsoft", grant: "client_credentials", client_id: APP_ID, private_key: rsaCertificate().key, certificate: "not a cert", vars: { tenant: TENANT } } } }, env: {} });
    t_after(ts);
    await assert.rejects(ts.connection("c").accessToken(), (err: { code?: string; field?: string }) => err.code === "config_invalid" && err.field === "connections.c.certificate");
  });

  test("tenant templates: common (default), organizations, a tenant id; user grants keep offline_access, scopes_mode: replace drops it", async () => {
    const resolve = async (own: Record<string, unknown>) => {
      const loaded = await loadConfig({ config: { connections: { c: { provider: "microsoft", client_id: APP_ID, ...own } } }, cwd: "/", env: {} });
      return resolveConnection(loaded, "c", { env: {} }).connection;
    };
    assert.equal((await resolve({})).tokenUrl, "https://login.microsoftonline.com/common/oauth2/v2.0/token");
    assert.equal((await resolve({ vars: { tenant: "organizations" } })).authorizationUrl, "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize");
    const app = await resolve({ grant: "client_credentials", client_secret: "x", vars: { tenant: TENANT } });
    assert.equal(app.tokenUrl, `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`);
    assert.deepEqual(app.scopes, ["https://graph.microsoft.com/.default"]);
    assert.deepEqual((await resolve({ scopes: ["User.Read"] })).scopes, ["User.Read", "offline_access"]);
    assert.deepEqual((await resolve({ grant: "device_code", scopes: ["User.Read"] })).scopes, ["User.Read", "offline_access"]);
    assert.deepEqual((await resolve({ scopes: ["User.Read"], scopes_mode: "replace" })).scopes, ["User.Read"]);
    assert.deepEqual((await resolve({ grant: "client_credentials", client_secret: "x", scopes_mode: "replace", scopes: ["api://x/.default"] })).scopes, ["api://x/.default"]);
  });
});

const closers: TokenSmith[] = [];
after(() => Promise.all(closers.map((ts) => ts.close())));
function t_after(ts: TokenSmith) {
  closers.push(ts);
}

/** Google's token endpoint for service accounts, as documented. */
function google(publicPem: string, keyId: string, email: string, base: () => string) {
  return async (req: Recorded, res: ServerResponse) => {
    const body = new URLSearchParams(req.body);
    if (body.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") return json(res, 400, { error: "unsupported_grant_type" });
    if (body.has("scope")) return json(res, 400, { error: "invalid_request", error_description: "scope belongs in the assertion" });
    const assertion = body.get("assertion") ?? "";
    if (decodeProtectedHeader(assertion).kid !== keyId) return json(res, 400, { error: "invalid_grant", error_description: "Invalid JWT Signature." });
    try {
      const { payload } = await jwtVerify(assertion, createPublicKey(publicPem), { audience: `${base()}/token`, issuer: email, algorithms: ["RS256"] });
      if (typeof payload.scope !== "string" || !payload.scope) return json(res, 400, { error: "invalid_scope", error_description: "Invalid OAuth scope or ID token audience provided." });
      if ((payload.exp as number) - (payload.iat as number) > 3600) return json(res, 400, { error: "invalid_grant", error_description: "Invalid JWT: exp too far" });
      return json(res, 200, { access_token: `ya29.${payload.sub ?? "self"}.${payload.scope.replace(/\s/g, "+")}`, expires_in: 3599, token_type: "Bearer" });
    } catch (err) {
      return json(res, 400, { error: "invalid_grant", error_description: (err as Error).message });
    }
  };
}

describe("Google service accounts (provider: google-service-account, credentials_file)", () => {
  test("JWT bearer with iss = client_email, scope inside the assertion, kid = private_key_id, aud = token_uri; sub for domain-wide delegation", async () => {
    const pem = rsaCertificate();
    const email = "reports@acme-123.iam.gserviceaccount.com";
    const keyId = "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c";
    let url = "";
    const server = await startServer(google(pem.cert, keyId, email, () => url));
    servers.push(server);
    url = server.url;
    const dir = mkdtempSync(join(tmpdir(), "tokensmith-gsa-"));
    dirs.push(dir);
    const keyFile = join(dir, "key.json");
    writeFileSync(keyFile, JSON.stringify({ type: "service_account", project_id: "acme-123", private_key_id: keyId, private_key: pem.key, client_email: email, client_id: "1234567890", token_uri: `${url}/token` }));
    const scopes = ["https://www.googleapis.com/auth/drive.readonly", "https://www.googleapis.com/auth/calendar"];
    const conn = { provider: "google-service-account", credentials_file: keyFile, scopes, allow_insecure_http: true };
    assert.equal(await tokenOf(conn), `ya29.self.${scopes.join("+")}`);
    assert.equal(await tokenOf({ ...conn, assertion: { sub: "alice@acme.example" } }), `ya29.alice@acme.example.${scopes.join("+")}`);
    assert.ok(server.requests.every((r) => !new URLSearchParams(r.body).has("client_id")));

    // Acting as itself and for a user are two token states (the identity is part of the fingerprint).
    const ts = await TokenSmith.load({ config: { store: { type: "memory" }, connections: { self: conn, alice: { ...conn, assertion: { sub: "alice@acme.example" } } } }, env: {} });
    t_after(ts);
    const [self, alice] = await ts.statuses(["self", "alice"]);
    assert.notEqual(self!.stateId, alice!.stateId);
  });

  test("a credentials file that is not a service-account key is a config error naming credentials_file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tokensmith-gsa-"));
    dirs.push(dir);
    writeFileSync(join(dir, "key.json"), JSON.stringify({ type: "authorized_user", client_id: "x" }));
    const ts = await TokenSmith.load({ config: { store: { type: "memory" }, connections: { c: { provider: "google-service-account", credentials_file: join(dir, "key.json"), scopes: ["s"] } } }, env: {} });
    t_after(ts);
    await assert.rejects(ts.connection("c").accessToken(), (err: { code?: string; field?: string; message: string }) => err.code === "config_invalid" && err.field === "connections.c.credentials_file" && /service-account key/.test(err.message));
  });
});

describe("other presets against their docs", () => {
  const resolve = async (own: Record<string, unknown>) => {
    const loaded = await loadConfig({ config: { connections: { c: { client_id: "id", client_secret: "secret-value-1", ...own } } }, cwd: "/", env: {} });
    return resolveConnection(loaded, "c", { env: {} }).connection;
  };

  test("zoho: the data center's accounts server, comma-separated scopes, offline access, the Zoho-oauthtoken scheme", async () => {
    const us = await resolve({ provider: "zoho", scopes: ["ZohoCRM.modules.ALL", "ZohoCRM.users.READ"] });
    assert.equal(us.tokenUrl, "https://accounts.zoho.com/oauth/v2/token");
    const eu = await resolve({ provider: "zoho", vars: { accounts_host: "accounts.zoho.eu" } });
    assert.equal(eu.authorizationUrl, "https://accounts.zoho.eu/oauth/v2/auth");
    assert.equal(eu.revocationUrl, "https://accounts.zoho.eu/oauth/v2/token/revoke");
    assert.equal(us.scopes.join(us.scopeSeparator), "ZohoCRM.modules.ALL,ZohoCRM.users.READ");
    assert.deepEqual(us.authorizationParams, { access_type: "offline", prompt: "consent" });
    assert.equal(us.header.value, "Zoho-oauthtoken {token}");
  });

  test("keycloak realms, okta authorization servers, auth0 audience and salesforce hosts template as documented", async () => {
    const kc = await resolve({ provider: "keycloak", vars: { base_url: "https://sso.example.com", realm: "staff" } });
    assert.equal(kc.tokenUrl, "https://sso.example.com/realms/staff/protocol/openid-connect/token");
    const okta = await resolve({ provider: "okta", grant: "client_credentials", vars: { domain: "dev-1.okta.com" }, scopes: ["invoices.read"] });
    assert.equal(okta.tokenUrl, "https://dev-1.okta.com/oauth2/default/v1/token");
    const auth0 = await resolve({ provider: "auth0", grant: "client_credentials", vars: { domain: "acme.us.auth0.com" }, audience: "https://api.acme.example" });
    assert.equal(auth0.audience, "https://api.acme.example");
    assert.equal(auth0.clientAuth, "post");
    const sf = await resolve({ provider: "salesforce", grant: "client_credentials", vars: { login_host: "acme.my.salesforce.com" } });
    assert.equal(sf.tokenUrl, "https://acme.my.salesforce.com/services/oauth2/token");
  });
});

import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { jwtVerify } from "jose";
import type { ResolvedConnection } from "../../src/config/types.js";
import { CLIENT_ASSERTION_TYPE } from "../../src/protocol/client-auth.js";
import { requestToken } from "../../src/protocol/send.js";
import { JWT_BEARER_GRANT_TYPE } from "../../src/protocol/token-request.js";
import type { GrantRequest } from "../../src/protocol/types.js";
import { assertNoSecrets, caught, client, deps, form, json, startServer, type Recorded, type TestServer } from "./helpers.js";

/**
 * Simulated token endpoints for the provider quirks of PROVIDERS.md, on a real loopback
 * server: each route answers like one provider does.
 */
const SECRET = "p+a/s=s&w%o:rd ünï€";
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const STRAVA_EXPIRES_AT = 1_900_000_000;

/** What a server that decodes Basic per RFC 6749 §2.3.1 reads from the header. */
function basicCredentials(req: Recorded): [string, string] | undefined {
  const header = req.headers.authorization;
  if (!header?.startsWith("Basic ")) return undefined;
  const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
  const i = decoded.indexOf(":");
  const unform = (s: string) => decodeURIComponent(s.replace(/\+/g, " "));
  return [unform(decoded.slice(0, i)), unform(decoded.slice(i + 1))];
}

describe("provider quirks over HTTP", () => {
  let server: TestServer;
  let base: string;

  before(async () => {
    server = await startServer(async (req, res) => {
      const body = req.headers["content-type"] === "application/json" ? (JSON.parse(req.body) as Record<string, string>) : form(req.body);
      switch (req.path) {
        case "/github":
          res.writeHead(200, { "Content-Type": "application/x-www-form-urlencoded; charset=utf-8" });
          return res.end("access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a&scope=repo%2Cgist&token_type=bearer");
        case "/slack":
          return json(res, 200, {
            ok: true,
            access_token: "xoxb-bot",
            token_type: "bot",
            scope: "commands",
            bot_user_id: "U0B",
            team: { id: "T1", name: "Acme" },
            authed_user: { id: "U1", scope: "chat:write", access_token: "xoxp-user", token_type: "user" },
          });
        case "/slack-error":
          return json(res, 200, { ok: false, error: "invalid_code" });
        case "/paypal":
          return json(res, 200, { access_token: "A21AA", token_type: "Bearer", expires_in: "32400", app_id: "APP-80W" });
        case "/strava":
          return json(res, 200, { token_type: "Bearer", access_token: "a4b9", expires_at: STRAVA_EXPIRES_AT, expires_in: 21600, refresh_token: "e5n5", athlete: { id: 134815, firstname: "Ann" } });
        case "/salesforce":
          return json(res, 200, { access_token: "00D!AQ", instance_url: "https://acme.my.salesforce.com", id: "https://login.salesforce.com/id/00D/005", issued_at: "1700000000000", signature: "c2ln", token_type: "Bearer" });
        case "/html500":
          res.writeHead(500, { "Content-Type": "text/html" });
          return res.end("<!doctype html><html><body><h1>Internal Server Error</h1></body></html>");
        case "/throttled":
          res.writeHead(429, { "Content-Type": "text/plain", "Retry-After": "12" });
          return res.end("Too Many Requests");
        case "/unavailable":
          res.writeHead(503, { "Content-Type": "text/plain", "Retry-After": new Date(Date.now() + 60_000).toUTCString() });
          return res.end("Service Unavailable");
        case "/basic": {
          const creds = basicCredentials(req);
          if (!creds || creds[0] !== "my-client" || creds[1] !== SECRET) return json(res, 401, { error: "invalid_client" });
          return json(res, 200, { access_token: "basic-ok", expires_in: 60 });
        }
        case "/post":
          if (body.client_id !== "my-client" || body.client_secret !== SECRET) return json(res, 401, { error: "invalid_client" });
          return json(res, 200, { access_token: "post-ok", expires_in: 60 });
        case "/notion": {
          const creds = basicCredentials(req);
          if (req.headers["content-type"] !== "application/json" || creds?.[1] !== SECRET) return json(res, 400, { error: "invalid_request" });
          return json(res, 200, { access_token: "secret_notion", token_type: "bearer", bot_id: "b1", workspace_name: "Acme", owner: { type: "user" } });
        }
        case "/facebook":
          if (body.grant_type !== "fb_exchange_token" || body.fb_exchange_token !== "short-lived-token") return json(res, 400, { error: { message: "bad" } });
          return json(res, 200, { access_token: "long-lived", token_type: "bearer", expires_in: 5183944 });
        case "/private-key-jwt":
        case "/client-secret-jwt": {
          if (body.client_assertion_type !== CLIENT_ASSERTION_TYPE) return json(res, 401, { error: "invalid_client" });
          const key = req.path === "/private-key-jwt" ? rsa.publicKey : new TextEncoder().encode(SECRET);
          try {
            const { payload } = await jwtVerify(body.client_assertion!, key, { audience: `${base}${req.path}`, issuer: "my-client", subject: "my-client" });
            if (typeof payload.jti !== "string") throw new Error("no jti");
          } catch {
            return json(res, 401, { error: "invalid_client", error_description: "assertion rejected" });
          }
          return json(res, 200, { access_token: `${req.path.slice(1)}-ok`, expires_in: 300 });
        }
        case "/jwt-bearer": {
          if (body.grant_type !== JWT_BEARER_GRANT_TYPE) return json(res, 400, { error: "unsupported_grant_type" });
          try {
            const { payload } = await jwtVerify(body.assertion!, ec.publicKey, { audience: `${base}/jwt-bearer`, issuer: "svc@example.iam", subject: "user@example.com" });
            return json(res, 200, { access_token: `for-${payload.sub}`, expires_in: 3600 });
          } catch {
            return json(res, 400, { error: "invalid_grant" });
          }
        }
        default:
          return json(res, 404, { error: "not_found" });
      }
    });
    base = server.url;
  });
  after(() => server.close());

  const token = (path: string, overrides: Partial<ResolvedConnection> = {}, grant: GrantRequest = { kind: "client_credentials" }) =>
    requestToken(client({ tokenUrl: `${base}${path}`, ...overrides }), { tokenUrl: `${base}${path}` }, grant, deps);

  it("reads GitHub's form-encoded response with lowercase bearer and no expiry", async () => {
    const { tokens, sentAt } = await token("/github");
    assert.equal(tokens.accessToken, "gho_16C7e42F292c6912E7710c838347Ae178B4a");
    assert.equal(tokens.tokenType, "Bearer");
    assert.equal(tokens.scope, "repo,gist");
    assert.equal(tokens.expiresInMs, undefined);
    assert.equal(tokens.expiresAtMs, undefined);
    assert.ok(Math.abs(sentAt - Date.now()) < 5_000);
    assert.equal(server.requests.at(-1)!.headers.accept, "application/json");
  });

  it("maps Slack's user token out of authed_user and keeps no token in extra", async () => {
    const response = { access_token: "$.authed_user.access_token", scope: "$.authed_user.scope", token_type: "$.authed_user.token_type" };
    // The slack preset's header says how to send its bot/user token types (SPEC §2.13).
    const { tokens } = await token("/slack", { response, headerSet: true });
    assert.equal(tokens.accessToken, "xoxp-user");
    assert.equal(tokens.scope, "chat:write");
    assert.equal(tokens.tokenType, "user");
    assert.doesNotMatch(JSON.stringify(tokens.extra), /xox[bp]/);
    assert.deepEqual(tokens.extra.team, { id: "T1", name: "Acme" });
  });

  it("reads Slack's bot token at the top level without a mapping", async () => {
    const { tokens } = await token("/slack", { headerSet: true });
    assert.equal(tokens.accessToken, "xoxb-bot");
  });

  it("treats Slack's ok:false with status 200 as an OAuth error", async () => {
    const err = await caught(() => token("/slack-error"));
    assert.equal(err.code, "oauth_error");
    assert.equal(err.status, 200);
    assert.equal(err.error, "invalid_code");
  });

  it("accepts PayPal's expires_in as a string", async () => {
    const { tokens } = await token("/paypal");
    assert.equal(tokens.expiresInMs, 32_400_000);
    assert.deepEqual(tokens.extra, { app_id: "APP-80W" });
  });

  it("reads Strava's expires_at and keeps the athlete in extra", async () => {
    const { tokens } = await token("/strava", {}, { kind: "refresh_token", refreshToken: "old-rt" });
    assert.equal(tokens.expiresAtMs, STRAVA_EXPIRES_AT * 1000);
    assert.equal(tokens.expiresInMs, 21_600_000);
    assert.equal(tokens.refreshToken, "e5n5");
    assert.deepEqual(tokens.extra, { athlete: { id: 134815, firstname: "Ann" } });
  });

  it("keeps Salesforce's instance_url and friends, with no expiry", async () => {
    const { tokens } = await token("/salesforce");
    assert.equal(tokens.expiresInMs, undefined);
    assert.equal(tokens.extra.instance_url, "https://acme.my.salesforce.com");
    assert.equal(tokens.extra.issued_at, "1700000000000");
  });

  it("reports an HTML 500 as a transient invalid_response", async () => {
    const err = await caught(() => token("/html500"));
    assert.equal(err.code, "invalid_response");
    assert.equal(err.status, 500);
    assert.match(err.message, /Internal Server Error/);
    assert.doesNotMatch(err.message, /<h1>/);
  });

  it("carries Retry-After from a 429 in seconds", async () => {
    const err = await caught(() => token("/throttled"));
    assert.equal(err.code, "invalid_response");
    assert.equal(err.status, 429);
    assert.equal(err.retryAfter, 12);
  });

  it("carries Retry-After from a 503 given as an HTTP date", async () => {
    const err = await caught(() => token("/unavailable"));
    assert.equal(err.status, 503);
    assert.ok(err.retryAfter! >= 55 && err.retryAfter! <= 61, String(err.retryAfter));
  });

  it("sends a secret with +/=&%: and non-ASCII characters intact in Basic auth", async () => {
    const { tokens } = await token("/basic", { clientSecret: SECRET, clientAuth: "basic" });
    assert.equal(tokens.accessToken, "basic-ok");
  });

  it("sends a secret with +/=&%: and non-ASCII characters intact in the body", async () => {
    const { tokens } = await token("/post", { clientSecret: SECRET, clientAuth: "post" });
    assert.equal(tokens.accessToken, "post-ok");
  });

  it("never shows the secret when the server refuses it", async () => {
    const err = await caught(() => token("/post", { clientSecret: `${SECRET}-wrong`, clientAuth: "post" }));
    assert.equal(err.code, "oauth_error");
    assert.equal(err.error, "invalid_client");
    assertNoSecrets(err, [`${SECRET}-wrong`]);
  });

  it("sends a Notion-style JSON body with Basic auth", async () => {
    const { tokens } = await token("/notion", { clientSecret: SECRET, tokenBody: "json" }, { kind: "authorization_code", code: "c1", redirectUri: "http://127.0.0.1:1/cb" });
    assert.equal(tokens.accessToken, "secret_notion");
    assert.deepEqual(tokens.extra, { bot_id: "b1", workspace_name: "Acme", owner: { type: "user" } });
    assert.deepEqual(JSON.parse(server.requests.at(-1)!.body), { grant_type: "authorization_code", code: "c1", redirect_uri: "http://127.0.0.1:1/cb" });
  });

  it("exchanges a Facebook token with a custom grant type", async () => {
    const conn = { clientAuth: "post" as const, grantType: "fb_exchange_token", tokenParams: { fb_exchange_token: "short-lived-token" } };
    const { tokens } = await token("/facebook", conn, { kind: "custom" });
    assert.equal(tokens.accessToken, "long-lived");
    assert.equal(tokens.refreshToken, undefined);
  });

  it("authenticates with private_key_jwt, verified by the server", async () => {
    const privateKey = rsa.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const { tokens } = await token("/private-key-jwt", { clientAuth: "private_key_jwt", privateKey, clientSecret: undefined });
    assert.equal(tokens.accessToken, "private-key-jwt-ok");
  });

  it("authenticates with client_secret_jwt, verified by the server", async () => {
    const { tokens } = await token("/client-secret-jwt", { clientAuth: "client_secret_jwt", clientSecret: SECRET });
    assert.equal(tokens.accessToken, "client-secret-jwt-ok");
    assert.equal(form(server.requests.at(-1)!.body).client_secret, undefined);
  });

  it("obtains a token with the jwt_bearer grant, verified by the server", async () => {
    const conn = {
      grant: "jwt_bearer" as const,
      clientAuth: "none" as const,
      clientId: "svc@example.iam",
      privateKey: ec.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      assertion: { sub: "user@example.com", ttlMs: 60_000, claims: {} },
    };
    const { tokens } = await token("/jwt-bearer", conn, { kind: "jwt_bearer" });
    assert.equal(tokens.accessToken, "for-user@example.com");
  });
});

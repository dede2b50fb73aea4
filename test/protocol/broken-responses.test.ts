import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ErrorCode } from "../../src/errors.js";
import { requestToken } from "../../src/protocol/send.js";
import { assertNoSecrets, caught, client, deps, startServer, type TestServer } from "./helpers.js";

/**
 * Token endpoints that answer something other than a token: each must give the right error
 * code, name the URL, and show no token or secret from the response or the request.
 */
const CLIENT_SECRET = "Cl1ent+S/ecr=t&%:ü-value";
const REFRESH_TOKEN = "rt-request-secret-12345";
const LEAK = "at-LEAKED-token-0987654321";

interface Case {
  name: string;
  status: number;
  body: string;
  headers?: Record<string, string>;
  code: ErrorCode;
  mapping?: Record<string, string>;
  check?: (err: Awaited<ReturnType<typeof caught>>) => void;
}

const JSON_TYPE = { "Content-Type": "application/json" };
const HTML_TYPE = { "Content-Type": "text/html; charset=utf-8" };

const cases: Case[] = [
  { name: "an empty 200 body", status: 200, body: "", code: "invalid_response" },
  { name: "a JSON array", status: 200, body: `["${LEAK}"]`, headers: JSON_TYPE, code: "invalid_response" },
  { name: "a JSON string", status: 200, body: `"${LEAK}"`, headers: JSON_TYPE, code: "invalid_response" },
  { name: "JSON null", status: 200, body: "null", headers: JSON_TYPE, code: "invalid_response" },
  { name: "an object without access_token", status: 200, body: `{"refresh_token":"${LEAK}","expires_in":3600}`, headers: JSON_TYPE, code: "invalid_response" },
  { name: "a numeric access_token", status: 200, body: `{"access_token":12345}`, headers: JSON_TYPE, code: "invalid_response" },
  { name: "an empty access_token", status: 200, body: `{"access_token":""}`, headers: JSON_TYPE, code: "invalid_response" },
  { name: "a negative expires_in", status: 200, body: `{"access_token":"${LEAK}","expires_in":-5}`, headers: JSON_TYPE, code: "invalid_response" },
  { name: "a non-numeric expires_in", status: 200, body: `{"access_token":"${LEAK}","expires_in":"soon"}`, headers: JSON_TYPE, code: "invalid_response" },
  { name: "a non-string refresh_token", status: 200, body: `{"access_token":"${LEAK}","refresh_token":{"v":"${LEAK}x"}}`, headers: JSON_TYPE, code: "invalid_response" },
  { name: "a non-string id_token", status: 200, body: `{"access_token":"${LEAK}","id_token":42}`, headers: JSON_TYPE, code: "invalid_response" },
  { name: "a non-string token_type", status: 200, body: `{"access_token":"${LEAK}","token_type":7}`, headers: JSON_TYPE, code: "invalid_response" },
  { name: "an unreadable expires_at", status: 200, body: `{"access_token":"${LEAK}","expires_at":"tomorrow"}`, headers: JSON_TYPE, code: "invalid_response" },
  { name: "truncated JSON", status: 200, body: `{"access_token": "${LEAK}", "expi`, headers: JSON_TYPE, code: "invalid_response" },
  { name: "an HTML login page with status 200", status: 200, body: "<html><body><form>Sign in</form></body></html>", headers: HTML_TYPE, code: "invalid_response" },
  {
    name: "an HTML 500 page echoing the request",
    status: 500,
    body: `<html><body><h1>Internal Server Error</h1><pre>client_secret=${encodeURIComponent(CLIENT_SECRET)}&refresh_token=${REFRESH_TOKEN} raw ${CLIENT_SECRET}</pre></body></html>`,
    headers: HTML_TYPE,
    code: "invalid_response",
    check: (err) => {
      assert.equal(err.status, 500);
      assert.match(err.message, /Internal Server Error/);
    },
  },
  {
    name: "a 503 with Retry-After in seconds",
    status: 503,
    body: "Service Unavailable",
    headers: { "Content-Type": "text/plain", "Retry-After": "30" },
    code: "invalid_response",
    check: (err) => {
      assert.equal(err.status, 503);
      assert.equal(err.retryAfter, 30);
    },
  },
  {
    name: "a 429 with Retry-After as an HTTP date",
    status: 429,
    body: "",
    headers: { "Retry-After": new Date(Date.now() + 90_000).toUTCString() },
    code: "invalid_response",
    check: (err) => {
      assert.equal(err.status, 429);
      assert.ok(err.retryAfter !== undefined && err.retryAfter >= 85 && err.retryAfter <= 91, `retryAfter ${err.retryAfter}`);
    },
  },
  { name: "a 502 JSON body that is no OAuth error", status: 502, body: `{"message":"bad gateway","access_token":"${LEAK}"}`, headers: JSON_TYPE, code: "invalid_response" },
  { name: "a 200 with an error object", status: 200, body: `{"error":{"code":500,"detail":"x"},"access_token":"${LEAK}"}`, headers: JSON_TYPE, code: "invalid_response" },
  { name: "a 401 with an empty body", status: 401, body: "", headers: { "WWW-Authenticate": "Basic" }, code: "invalid_response", check: (err) => assert.equal(err.status, 401) },
  { name: "XML labelled as JSON", status: 200, body: `<token><access_token>${LEAK}</access_token></token>`, headers: JSON_TYPE, code: "invalid_response" },
  { name: "a bare token as text/plain", status: 200, body: LEAK, headers: { "Content-Type": "text/plain" }, code: "invalid_response" },
  { name: "XML tokens in an HTML page", status: 200, body: `<html><access_token>${LEAK}</access_token></html>`, headers: HTML_TYPE, code: "invalid_response" },
  { name: "a mapping that finds nothing", status: 200, body: `{"data":{"jwt":"${LEAK}"}}`, headers: JSON_TYPE, code: "invalid_response", mapping: { access_token: "$.data.token" } },
  {
    name: "JSON nested 5,000 deep",
    status: 200,
    body: `{"access_token":"${LEAK}","a":${"[".repeat(5000)}${"]".repeat(5000)}}`,
    headers: JSON_TYPE,
    code: "invalid_response",
    check: (err) => assert.match(err.message, /nested more than 64 levels deep/),
  },
  { name: "an OAuth error nested 5,000 deep", status: 400, body: `{"error":"invalid_grant","x":${"{\"y\":".repeat(5000)}1${"}".repeat(5000)}}`, headers: JSON_TYPE, code: "invalid_response" },
  {
    name: "extra fields over 16 KiB",
    status: 200,
    body: `{"access_token":"${LEAK}","profile":"${"x".repeat(20_000)}"}`,
    headers: JSON_TYPE,
    code: "invalid_response",
    check: (err) => assert.match(err.message, /more than the 16384 kept as extra/),
  },
  {
    name: "an OAuth error echoing the refresh token",
    status: 400,
    body: `{"error":"invalid_grant","error_description":"token ${REFRESH_TOKEN} was revoked"}`,
    headers: JSON_TYPE,
    code: "oauth_error",
    check: (err) => assert.equal(err.error, "invalid_grant"),
  },
  { name: "Slack's ok:false with status 200", status: 200, body: `{"ok":false,"error":"invalid_auth"}`, headers: JSON_TYPE, code: "oauth_error" },
  {
    name: "a form-encoded error with status 200 (GitHub)",
    status: 200,
    body: "error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+expired.",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    code: "oauth_error",
    check: (err) => assert.equal(err.error, "bad_verification_code"),
  },
];

describe("broken token responses", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer((req, res) => {
      const c = cases[Number(req.path.split("/").pop())]!;
      res.writeHead(c.status, c.headers ?? {});
      res.end(c.body);
    });
  });
  after(() => server.close());

  it("covers at least 15 kinds of broken response", () => {
    assert.ok(cases.length >= 15);
  });

  cases.forEach((c, i) => {
    it(`reports ${c.name} as ${c.code}, naming the URL and showing no secret`, async () => {
      const tokenUrl = `${server.url}/token/${i}`;
      const conn = client({ tokenUrl, clientSecret: CLIENT_SECRET, clientAuth: "post", response: c.mapping });
      const err = await caught(() => requestToken(conn, { tokenUrl }, { kind: "refresh_token", refreshToken: REFRESH_TOKEN }, deps));
      assert.equal(err.code, c.code, err.message);
      assert.equal(err.url, tokenUrl);
      assert.ok(err.message.includes(tokenUrl), err.message);
      assert.equal(err.connection, "test");
      assertNoSecrets(err, [LEAK, CLIENT_SECRET, encodeURIComponent(CLIENT_SECRET), REFRESH_TOKEN]);
      c.check?.(err);
    });
  });
});

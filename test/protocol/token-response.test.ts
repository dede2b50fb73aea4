import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { processTokenResponse } from "../../src/protocol/token-response.js";
import { retryAfterSeconds } from "../../src/protocol/response.js";
import type { ReceivedResponse } from "../../src/protocol/types.js";
import { assertNoSecrets, caught, client } from "./helpers.js";

const URL = "https://auth.example.com/oauth/token";

function response(status: number, body: unknown, headers: Record<string, string> = { "content-type": "application/json" }): ReceivedResponse {
  return { status, headers: new Headers(headers), body: typeof body === "string" ? body : JSON.stringify(body), url: URL };
}

describe("processTokenResponse on good responses", () => {
  it("reads a standard response", () => {
    const tokens = processTokenResponse(client(), response(200, { access_token: "at", token_type: "Bearer", expires_in: 3600, refresh_token: "rt", scope: "a b", id_token: "idt" }));
    assert.deepEqual(tokens, { accessToken: "at", tokenType: "Bearer", expiresInMs: 3_600_000, resolutionMs: 1000, refreshToken: "rt", scope: "a b", idToken: "idt", extra: {} });
  });

  it("keeps extra fields nested up to 64 levels, and counts brackets inside strings as text (SPEC §2.19)", () => {
    const nested = `${"[".repeat(63)}1${"]".repeat(63)}`;
    const tokens = processTokenResponse(client(), response(200, `{"access_token":"at","note":"${"[".repeat(500)}","a":${nested}}`));
    assert.equal(tokens.extra.note, "[".repeat(500));
    assert.equal(JSON.stringify(tokens.extra.a), nested);
  });

  it("marks a whole-number expires_in as good only to the second (SPEC §2.10)", () => {
    assert.equal(processTokenResponse(client(), response(200, { access_token: "at", expires_in: "2" })).resolutionMs, 1000);
    assert.equal(processTokenResponse(client(), response(200, { access_token: "at", expires_in: 2.5 })).resolutionMs, undefined);
  });

  it("normalizes bearer in any case and defaults a missing type to Bearer", () => {
    assert.equal(processTokenResponse(client(), response(200, { access_token: "at", token_type: "bEaReR" })).tokenType, "Bearer");
    assert.equal(processTokenResponse(client(), response(200, { access_token: "at" })).tokenType, "Bearer");
  });

  for (const type of ["DPoP", "mac", "N_A", "bot"]) {
    it(`refuses a token of type ${type}, which it does not understand, naming the type (RFC 6749 §7.1)`, async () => {
      const err = await caught(() => processTokenResponse(client(), response(200, { access_token: "at-unknown-type", token_type: type })));
      assert.equal(err.code, "invalid_response");
      assert.ok(err.message.includes(`"${type}"`), err.message);
      assert.match(err.hint ?? "", /header/);
      assertNoSecrets(err, ["at-unknown-type"]);
    });
  }

  it("keeps another token type as sent when the connection's header says how to send it", () => {
    const conn = client({ header: { name: "Authorization", value: "DPoP {token}" }, headerSet: true });
    assert.equal(processTokenResponse(conn, response(200, { access_token: "at", token_type: "DPoP" })).tokenType, "DPoP");
  });

  it("shows a long or odd token_type only in part, escaped", async () => {
    const err = await caught(() => processTokenResponse(client(), response(200, { access_token: "at", token_type: `\u001b[31m${"x".repeat(100)}` })));
    assert.equal(err.code, "invalid_response");
    assert.doesNotMatch(err.message, /\u001b/, "no terminal escape reaches the message");
    assert.doesNotMatch(err.hint ?? "", /\u001b/);
    assert.ok(!err.message.includes("x".repeat(41)), err.message);
  });

  it("accepts expires_in as a numeric string and treats 0 as not given", () => {
    assert.equal(processTokenResponse(client(), response(200, { access_token: "at", expires_in: "3599" })).expiresInMs, 3_599_000);
    assert.equal(processTokenResponse(client(), response(200, { access_token: "at", expires_in: 0 })).expiresInMs, undefined);
  });

  it("reads expires_at as epoch seconds, epoch ms with expires_at_unit ms, or RFC 3339", () => {
    const at = Date.UTC(2030, 0, 1);
    assert.equal(processTokenResponse(client(), response(200, { access_token: "at", expires_at: at / 1000 })).expiresAtMs, at);
    assert.equal(processTokenResponse(client(), response(200, { access_token: "at", expires_at: String(at / 1000) })).expiresAtMs, at);
    const ms = client({ response: { expires_at_unit: "ms" } });
    assert.equal(processTokenResponse(ms, response(200, { access_token: "at", expires_at: at })).expiresAtMs, at);
    assert.equal(processTokenResponse(client(), response(200, { access_token: "at", expires_at: "2030-01-01T00:00:00Z" })).expiresAtMs, at);
  });

  it("parses a form-encoded body", () => {
    const res = response(200, "access_token=gho_abc&scope=repo%2Cgist&token_type=bearer", { "content-type": "application/x-www-form-urlencoded" });
    assert.deepEqual(processTokenResponse(client(), res), { accessToken: "gho_abc", tokenType: "Bearer", scope: "repo,gist", extra: {} });
  });

  it("parses a form-encoded body sent as text/plain", () => {
    const res = response(200, "access_token=abc&expires=5183999", { "content-type": "text/plain" });
    assert.equal(processTokenResponse(client(), res).accessToken, "abc");
  });

  it("follows a JSONPath response mapping and falls back to standard names for unmapped fields", () => {
    const conn = client({ response: { access_token: "$.data.token", expires_in: "$.data.ttl" } });
    const tokens = processTokenResponse(conn, response(200, { data: { token: "mapped", ttl: "60" }, refresh_token: "rt" }));
    assert.equal(tokens.accessToken, "mapped");
    assert.equal(tokens.expiresInMs, 60_000);
    assert.equal(tokens.refreshToken, "rt");
    assert.deepEqual(tokens.extra, { data: { ttl: "60" } });
  });

  it("reports a mapping JSONPath cannot evaluate as a configuration error naming the field", async () => {
    const conn = client({ response: { access_token: "$..[?(@.x==" } });
    const err = await caught(() => processTokenResponse(conn, response(200, { access_token: "at" })));
    assert.equal(err.code, "config_invalid");
    assert.equal(err.field, "connections.test.response.access_token");
  });

  it("never evaluates a filter or script expression in a mapping, even one that would find the token", async () => {
    const body = { tokens: [{ kind: "id", value: "idt" }, { kind: "at", value: "the-token" }] };
    for (const path of ["$.tokens[?(@.kind=='at')].value", "$.tokens[(@.length-1)].value"]) {
      const err = await caught(() => processTokenResponse(client({ response: { access_token: path } }), response(200, body)));
      assert.equal(err.code, "config_invalid", path);
      assert.equal(err.field, "connections.test.response.access_token");
      assert.match(err.message, /not evaluated/);
    }
  });

  it("refuses a mapping jsonpath-plus would read loosely ($.[ as $..) instead of guessing", async () => {
    const err = await caught(() => processTokenResponse(client({ response: { access_token: "$.[" } }), response(200, { access_token: "at" })));
    assert.equal(err.code, "config_invalid");
    assert.equal(err.field, "connections.test.response.access_token");
  });

  it("keeps non-secret extra fields and drops every token, however nested or named", () => {
    const conn = client({ response: { access_token: "$.user.jwt" } });
    const body = { user: { jwt: "mapped-token", name: "ann" }, instance_url: "https://x.my.salesforce.com", signature: "sig", authed_user: { access_token: "xoxp", id: "U1" }, id_token: "idt" };
    const tokens = processTokenResponse(conn, response(200, body));
    assert.deepEqual(tokens.extra, { user: { name: "ann" }, instance_url: "https://x.my.salesforce.com", signature: "sig", authed_user: { id: "U1" } });
  });

  it("keeps fields that describe a token without holding one (issued_token_type, refresh_token_expires_in)", () => {
    const body = { access_token: "at", issued_token_type: "urn:ietf:params:oauth:token-type:access_token", refresh_token_expires_in: 15897600, refresh_token: "rt", session_token: "st" };
    const tokens = processTokenResponse(client(), response(200, body));
    assert.deepEqual(tokens.extra, { issued_token_type: "urn:ietf:params:oauth:token-type:access_token", refresh_token_expires_in: 15897600 });
  });

  it("joins a scope sent as a list and keeps an empty scope", () => {
    assert.equal(processTokenResponse(client(), response(200, { access_token: "at", scope: ["a", "b"] })).scope, "a b");
    assert.equal(processTokenResponse(client(), response(200, { access_token: "at", scope: "" })).scope, "");
  });
});

describe("processTokenResponse on OAuth errors", () => {
  const cases: Array<[string, RegExp]> = [
    ["invalid_client", /client_id and client_secret.*basic_encoding/],
    ["invalid_grant", /expired, been revoked, or been rotated/],
    ["invalid_scope", /scope/],
    ["unauthorized_client", /grant type/],
    ["unsupported_grant_type", /grant/],
  ];
  for (const [error, hint] of cases) {
    it(`turns ${error} into oauth_error with its RFC fields and a hint`, async () => {
      const err = await caught(() =>
        processTokenResponse(client(), response(400, { error, error_description: "Nope.", error_uri: "https://docs.example.com/e" })),
      );
      assert.equal(err.code, "oauth_error");
      assert.equal(err.status, 400);
      assert.equal(err.error, error);
      assert.equal(err.errorDescription, "Nope.");
      assert.equal(err.errorUri, "https://docs.example.com/e");
      assert.equal(err.url, URL);
      assert.match(err.message, new RegExp(`${URL}.*${error}`));
      assert.match(err.hint ?? "", hint);
    });
  }

  it("treats a 200 carrying error as an error", async () => {
    const err = await caught(() => processTokenResponse(client(), response(200, { error: "bad_verification_code" })));
    assert.equal(err.code, "oauth_error");
    assert.equal(err.error, "bad_verification_code");
  });

  it("treats Slack's ok: false as an error", async () => {
    const err = await caught(() => processTokenResponse(client(), response(200, { ok: false, error: "invalid_code" })));
    assert.equal(err.code, "oauth_error");
    assert.equal(err.error, "invalid_code");
    const bare = await caught(() => processTokenResponse(client(), response(200, { ok: false })));
    assert.equal(bare.error, "unknown_error");
  });

  it("redacts secrets a server echoes in error_description", async () => {
    const err = await caught(() =>
      processTokenResponse(client(), response(400, { error: "invalid_grant", error_description: "refresh_token=rt-leaked-value is expired" })),
    );
    assertNoSecrets(err, ["rt-leaked-value"]);
  });

  it("carries Retry-After on an OAuth error", async () => {
    const err = await caught(() => processTokenResponse(client(), response(429, { error: "slow_down" }, { "content-type": "application/json", "retry-after": "7" })));
    assert.equal(err.retryAfter, 7);
  });
});

describe("retryAfterSeconds", () => {
  it("reads delta-seconds", () => {
    assert.equal(retryAfterSeconds(new Headers({ "retry-after": "120" })), 120);
  });

  it("reads an HTTP date against the response's Date header", () => {
    const headers = new Headers({ date: "Wed, 01 Jan 2030 00:00:00 GMT", "retry-after": "Wed, 01 Jan 2030 00:00:30 GMT" });
    assert.equal(retryAfterSeconds(headers, () => 0), 30);
  });

  it("reads an HTTP date against the injected clock when there is no Date header", () => {
    const headers = new Headers({ "retry-after": "Wed, 01 Jan 2030 00:01:00 GMT" });
    assert.equal(retryAfterSeconds(headers, () => Date.UTC(2030, 0, 1)), 60);
  });

  it("ignores garbage", () => {
    assert.equal(retryAfterSeconds(new Headers({ "retry-after": "soon" })), undefined);
    assert.equal(retryAfterSeconds(new Headers()), undefined);
  });
});

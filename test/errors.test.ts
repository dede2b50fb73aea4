import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTransient, redactedJSON, TokenSmithError } from "../src/errors.js";
import { errorLogLine, errorResponse } from "../src/gateway/errors.js";
import { registerSecret } from "../src/redact.js";

const oauth = (status: number, error?: string) => new TokenSmithError("oauth_error", "refused", { status, error });

describe("isTransient", () => {
  it("says retry for network failures, timeouts, 5xx and 429, with or without an OAuth error body", () => {
    assert.equal(isTransient(new TokenSmithError("network_error", "reset")), true);
    assert.equal(isTransient(new TokenSmithError("timeout", "slow")), true);
    assert.equal(isTransient(new TokenSmithError("invalid_response", "html", { status: 502 })), true);
    assert.equal(isTransient(oauth(503, "temporarily_unavailable")), true);
    assert.equal(isTransient(oauth(500, "server_error")), true);
    assert.equal(isTransient(oauth(429)), true);
  });

  it("says retry for OAuth codes that mean 'later', whatever the status", () => {
    assert.equal(isTransient(oauth(400, "temporarily_unavailable")), true);
    assert.equal(isTransient(oauth(400, "rate_limit_exceeded")), true);
  });

  it("never retries a refusal, a configuration error or a foreign error", () => {
    assert.equal(isTransient(oauth(400, "invalid_grant")), false);
    assert.equal(isTransient(oauth(401, "invalid_client")), false);
    assert.equal(isTransient(new TokenSmithError("config_invalid", "bad")), false);
    assert.equal(isTransient(new TokenSmithError("lock_timeout", "busy")), false);
    assert.equal(isTransient(new Error("boom")), false);
  });
});

describe("TokenSmithError", () => {
  it("carries the RFC 6749 §5.2 fields under SPEC §4's names too", () => {
    const err = new TokenSmithError("oauth_error", "refused", { error: "invalid_grant", errorDescription: "grant revoked", errorUri: "https://as.example/e" });
    assert.equal(err.error, "invalid_grant");
    assert.equal(err.error_description, "grant revoked");
    assert.equal(err.error_uri, "https://as.example/e");
    assert.equal(err.withConnection("billing").error_description, "grant revoked");
  });
});

describe("redactedJSON and the gateway's error log", () => {
  it("keep tokensmith's words when a registered passphrase is one of them, and redact server text", () => {
    registerSecret("modified");
    registerSecret("server-echo-9f2c");
    const err = new TokenSmithError("usage_error", 'the bundle of "x" could not be decrypted: wrong passphrase, or the bundle was modified', {
      connection: "billing",
      hint: "check that the file is not modified",
      errorDescription: "bad: server-echo-9f2c",
    });
    const json = redactedJSON(err);
    assert.equal(json.message, err.message);
    assert.equal(json.hint, err.hint);
    assert.equal(json.error_description, "bad: [redacted]");
    assert.equal(errorResponse(err).body.error.message, err.message);
    const line = errorLogLine(err, { method: "GET", path: "/v1/connections/billing/token?x=server-echo-9f2c" });
    assert.equal(line, `GET /v1/connections/billing/token?x=[redacted]: 500 usage_error [billing]: ${err.message}`);
  });
});

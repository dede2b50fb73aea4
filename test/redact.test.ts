import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { redact, registerSecret } from "../src/redact.js";

describe("redact", () => {
  it("hides Authorization credentials, JSON and form fields, and JWTs", () => {
    assert.equal(redact("Authorization: Bearer mF_9.B5f-4.1JqM"), "Authorization: Bearer [redacted]");
    assert.equal(redact("authorization: basic bXktY2xpZW50OnNlY3JldA=="), "authorization: basic [redacted]");
    assert.equal(redact('{"access_token": "abc", "expires_in": 60}'), '{"access_token": "[redacted]", "expires_in": 60}');
    assert.equal(redact("grant_type=password&password=hunter2&username=u"), "grant_type=password&password=[redacted]&username=u");
    assert.equal(redact("got eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig"), "got [redacted-jwt]");
  });

  it("hides a registered secret wherever it appears, encoded too", () => {
    registerSecret("s3cr3t+/=&value");
    assert.equal(redact("echo: s3cr3t+/=&value and s3cr3t%2B%2F%3D%26value"), "echo: [redacted] and [redacted]");
  });

  it("leaves prose about Basic and Bearer alone", () => {
    assert.equal(redact("check client_auth (basic or post)"), "check client_auth (basic or post)");
    assert.equal(redact("demo-service: Bearer token, expires soon"), "demo-service: Bearer token, expires soon");
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_ROTATING_SECRET_CHARS, MAX_ROTATING_SECRETS, excerpt, redact, redactMessage, registerSecret, secretRegistryStats, stripControls } from "../src/redact.js";

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

describe("redactMessage: tokensmith's own words", () => {
  it("leaves a message alone when a registered passphrase is one of its words", () => {
    registerSecret("wrong");
    const message = 'the bundle of "x" could not be decrypted: wrong passphrase, or the bundle was modified';
    assert.equal(redactMessage(message), message);
    // Server text and values are redacted in full where they enter a message.
    assert.equal(redact("the server said: wrong"), "the server said: [redacted]");
  });

  it("still hides machine-made secrets and credential shapes in a composed message", () => {
    registerSecret("rt-8f3a9c2e71");
    assert.equal(redactMessage("refresh rt-8f3a9c2e71 failed"), "refresh [redacted] failed");
    assert.equal(redactMessage("sent Authorization: Bearer abcdefgh1234"), "sent Authorization: Bearer [redacted]");
  });
});

describe("stripControls", () => {
  it("removes C0, DEL, C1 and bidi controls from server text, keeping tab and newline", () => {
    const text = "a\u001b]0;title\u0007b\u001b[2Jc\u009b31md\u007fe\tf\ng\u202eh\u0000";
    assert.equal(stripControls(text), "a]0;titleb[2Jc31mde\tf\ngh");
    assert.equal(redact(text), "a]0;titleb[2Jc31mde\tf\ngh");
    assert.equal(excerpt("x\u001b[31my"), "x[31my");
  });

  it("cannot be used to split a registered secret", () => {
    registerSecret("split-secret-42");
    assert.equal(redact("split-\u001bsecret-42"), "[redacted]");
  });
});

describe("the secret registry", () => {
  it("keeps at most MAX_ROTATING_SECRETS rotating values, evicting the oldest, never a pinned one", () => {
    registerSecret("pinned-client-secret-Q7");
    const token = (i: number) => `rotated-refresh-token-${i}-${"x".repeat(40)}`;
    for (let i = 0; i < 10_000; i++) registerSecret(token(i), { rotating: true });
    const stats = secretRegistryStats();
    assert.ok(stats.rotating <= MAX_ROTATING_SECRETS, `${stats.rotating} rotating entries`);
    assert.ok(stats.rotatingChars <= MAX_ROTATING_SECRET_CHARS);
    assert.equal(redact(`echo ${token(9_999)}`), "echo [redacted]", "the newest stays");
    assert.equal(redact(`echo ${token(0)}`), `echo ${token(0)}`, "the oldest went");
    assert.equal(redact("echo pinned-client-secret-Q7"), "echo [redacted]", "a pinned secret is never evicted");
  });

  it("bounds the characters held, and keeps the newest value however large", () => {
    const big = (i: number) => `${i}-${"b".repeat(200_000)}`;
    for (let i = 0; i < 20; i++) registerSecret(big(i), { rotating: true });
    assert.ok(secretRegistryStats().rotatingChars <= MAX_ROTATING_SECRET_CHARS);
    assert.equal(redact(big(19)), "[redacted]");
    const huge = `h-${"h".repeat(MAX_ROTATING_SECRET_CHARS)}`;
    registerSecret(huge, { rotating: true });
    assert.equal(redact(huge), "[redacted]");
  });

  it("makes a value the newest again when it is registered again before a request", () => {
    registerSecret("refresh-in-flight-1", { rotating: true });
    for (let i = 0; i < MAX_ROTATING_SECRETS + 500; i++) {
      registerSecret(`filler-${i}-token`, { rotating: true });
      if (i % 1000 === 0) registerSecret("refresh-in-flight-1", { rotating: true });
    }
    assert.equal(redact("refresh-in-flight-1"), "[redacted]");
  });
});

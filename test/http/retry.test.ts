import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { apiRetryDelay, isIdempotent, MAX_RETRY_DELAY_MS, parseRetryAfter, retryPolicy, RETRY_BASE_MS } from "../../src/http/retry.js";

const NOW = Date.UTC(2026, 0, 1);
const policy = retryPolicy({ apiRetry: { max: 2, on: [429, 503] } }, undefined)!;

describe("api_retry", () => {
  it("is off unless the connection or the call asks, and the call's options win", () => {
    assert.equal(retryPolicy({}, undefined), undefined);
    assert.equal(retryPolicy({ apiRetry: { max: 3, on: [429] } }, false), undefined);
    assert.deepEqual(retryPolicy({}, { max: 1 }), { max: 1, on: [429, 503], nonIdempotent: false, maxDelayMs: MAX_RETRY_DELAY_MS });
    assert.equal(retryPolicy({ apiRetry: { max: 3, on: [429] } }, { max: 5 })!.max, 5);
    assert.deepEqual(retryPolicy({ apiRetry: { max: 3, on: [429] } }, { max: 5 })!.on, [429]);
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    assert.equal(parseRetryAfter("7", NOW), 7000);
    assert.equal(parseRetryAfter(new Date(NOW + 30_000).toUTCString(), NOW), 30_000);
    assert.equal(parseRetryAfter(new Date(NOW - 30_000).toUTCString(), NOW), 0);
    assert.equal(parseRetryAfter("soon", NOW), undefined);
    assert.equal(parseRetryAfter(null, NOW), undefined);
  });

  it("waits what Retry-After says, and gives up when it asks for more than the cap", () => {
    assert.equal(apiRetryDelay(policy, { method: "GET", attempt: 1 }, { status: 429, retryAfter: "2" }, NOW), 2000);
    assert.equal(apiRetryDelay(policy, { method: "GET", attempt: 1 }, { status: 429, retryAfter: "3600" }, NOW), undefined);
  });

  it("backs off with jitter when the server gives no Retry-After", () => {
    assert.equal(apiRetryDelay(policy, { method: "GET", attempt: 1 }, { status: 503 }, NOW, () => 0), RETRY_BASE_MS / 2);
    assert.equal(apiRetryDelay(policy, { method: "GET", attempt: 2 }, { status: 503 }, NOW, () => 1), RETRY_BASE_MS * 2);
  });

  it("never retries other statuses, spent retries, or non-idempotent methods unless asked", () => {
    assert.equal(apiRetryDelay(policy, { method: "GET", attempt: 1 }, { status: 500 }, NOW), undefined);
    assert.equal(apiRetryDelay(policy, { method: "GET", attempt: 3 }, { status: 429 }, NOW), undefined);
    assert.equal(apiRetryDelay(policy, { method: "POST", attempt: 1 }, { status: 429 }, NOW), undefined);
    assert.equal(apiRetryDelay({ ...policy, nonIdempotent: true }, { method: "POST", attempt: 1 }, { status: 429, retryAfter: "1" }, NOW), 1000);
    assert.deepEqual(["GET", "put", "DELETE", "POST", "PATCH"].map(isIdempotent), [true, true, true, false, false]);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { tokenJson } from "../../src/lifecycle/token-json.js";

const info = (expiresAt: Date | null) => ({ accessToken: "at-1", tokenType: "Bearer", expiresAt, scope: "a b", extra: { instance_url: "https://x.example" } });

describe("tokenJson (the CLI's token --json and the gateway's token route)", () => {
  it("gives integer epoch seconds and whole seconds left, never negative", () => {
    const now = Date.UTC(2030, 0, 1);
    assert.deepEqual(tokenJson("billing", info(new Date(now + 59_999)), now), {
      connection: "billing",
      access_token: "at-1",
      token_type: "Bearer",
      expires_at: Math.floor((now + 59_999) / 1000),
      expires_in: 59,
      scope: "a b",
      extra: { instance_url: "https://x.example" },
    });
    assert.equal(tokenJson("billing", info(new Date(now - 5_000)), now).expires_in, 0);
  });

  it("gives null for both when the token has no expiry", () => {
    const json = tokenJson("billing", info(null), 0);
    assert.equal(json.expires_at, null);
    assert.equal(json.expires_in, null);
  });
});

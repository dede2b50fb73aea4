import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TokenSmithError } from "../../src/errors.js";
import { createMemoryStore } from "../../src/store/memory.js";
import { TokenSmith } from "../../src/tokensmith.js";

describe("Connection", () => {
  it("rejects with the caller's own abort reason, not as a tokensmith failure", async (t) => {
    const ts = await TokenSmith.load({
      config: { connections: { billing: { grant: "client_credentials", token_url: "https://auth.example.com/token", client_id: "c", client_secret: "s3cret-value" } } },
      env: {},
      store: createMemoryStore(),
    });
    t.after(() => ts.close());
    const reason = new DOMException("the job was cancelled", "AbortError");
    const err = await ts
      .connection("billing")
      .accessToken({ signal: AbortSignal.abort(reason) })
      .then(
        () => assert.fail("expected a rejection"),
        (e: unknown) => e,
      );
    assert.equal(err, reason);
    assert.ok(!(err instanceof TokenSmithError));
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { OAUTH_ERRORS, OAUTH_ERROR_HINTS, oauthErrorCause } from "../../src/protocol/oauth-error.js";
import { createMemoryStore } from "../../src/store/memory.js";
import { TokenSmith } from "../../src/tokensmith.js";
import { startServer } from "./helpers.js";

describe("the one table of OAuth errors", () => {
  it("gives every common code a hint, and the likely causes diagnose prints", () => {
    for (const [code, entry] of Object.entries(OAUTH_ERRORS)) {
      assert.ok(entry.hint.length > 20, code);
      assert.equal(OAUTH_ERROR_HINTS[code], entry.hint);
    }
    for (const code of ["invalid_client", "invalid_grant", "invalid_scope", "unauthorized_client", "unsupported_grant_type", "invalid_request"]) {
      assert.ok(oauthErrorCause(code), code);
    }
    assert.equal(oauthErrorCause("toString"), undefined);
    assert.equal(oauthErrorCause("something_else"), undefined);
  });

  it("is where `test`'s cause and the error's hint both come from", async (t) => {
    const server = await startServer((_req, res) => {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "invalid_client" }));
    });
    t.after(() => server.close());
    const ts = await TokenSmith.load({
      config: { connections: { billing: { grant: "client_credentials", token_url: `${server.url}/token`, client_id: "c", client_secret: "s3cret-value" } } },
      env: {},
      store: createMemoryStore(),
    });
    t.after(() => ts.close());
    const diagnosis = await ts.connection("billing").test();
    assert.equal(diagnosis.ok, false);
    assert.equal(diagnosis.cause, OAUTH_ERRORS.invalid_client!.cause);
    assert.equal(diagnosis.hint, OAUTH_ERRORS.invalid_client!.hint);
  });
});

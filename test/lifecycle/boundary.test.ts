import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TokenSmithError } from "../../src/errors.js";
import { Connection } from "../../src/lifecycle/connection.js";
import { internals } from "../../src/lifecycle/handle.js";
import { createMemoryStore } from "../../src/store/memory.js";
import { TokenSmith } from "../../src/tokensmith.js";

const config = { connections: { billing: { grant: "client_credentials", token_url: "https://auth.example.com/token", client_id: "c", client_secret: "s3cret-value" } } };

/** What a user may call on a connection (SPEC §4), and nothing else. */
const PUBLIC_METHODS = ["accessToken", "describe", "export", "fetch", "headers", "history", "invalidate", "login", "logout", "paginate", "revoke", "status", "test", "token"];

describe("the public boundary of a connection", () => {
  it("offers users the documented methods only: no way to its manager or store", async (t) => {
    const ts = await TokenSmith.load({ config, env: {}, store: createMemoryStore() });
    t.after(() => ts.close());
    const connection = ts.connection("billing");
    const methods = Object.getOwnPropertyNames(Connection.prototype).filter((name) => name !== "constructor");
    assert.deepEqual(methods.sort(), PUBLIC_METHODS);
    assert.deepEqual(Object.keys(connection), ["name"]);
    for (const internal of ["setup", "stateSetup", "cachedToken", "isDead", "markDead", "storedToken", "tombstone", "runtime", "ready"]) {
      assert.equal((connection as unknown as Record<string, unknown>)[internal], undefined, `connection.${internal} is reachable`);
    }
  });

  it("hands tokensmith's own layers the engine of a connection it made, and nothing else", async (t) => {
    const ts = await TokenSmith.load({ config, env: {}, store: createMemoryStore() });
    t.after(() => ts.close());
    const setup = await internals(ts.connection("billing")).setup();
    assert.equal(setup.conn.name, "billing");
    assert.throws(() => internals({ name: "billing" }), (err: unknown) => err instanceof TokenSmithError && err.code === "usage_error");
  });
});

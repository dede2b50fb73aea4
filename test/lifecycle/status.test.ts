import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TokenSmithError } from "../../src/errors.js";
import { createMemoryStore } from "../../src/store/memory.js";
import type { Store } from "../../src/store/types.js";
import { TokenSmith } from "../../src/tokensmith.js";

const connection = (secret: string) => ({ grant: "client_credentials", token_url: "https://auth.example.com/token", client_id: "c", client_secret: secret });
const config = { connections: { billing: connection("s3cret-value"), reports: connection("${env:REPORTS_SECRET}") } };

/** A store whose every read fails, as a Postgres that went away would. */
function unreadableStore(): Store {
  const inner = createMemoryStore();
  return {
    kind: inner.kind,
    get: async () => {
      throw new TokenSmithError("store_error", "the token store could not be read (connection refused)");
    },
    update: (key, fn, options) => inner.update(key, fn, options),
    close: () => inner.close(),
  };
}

describe("ts.statuses()", () => {
  it("lists every connection in config order, one whose settings don't resolve as a row with its error", async (t) => {
    const ts = await TokenSmith.load({ config, env: {}, store: createMemoryStore() });
    t.after(() => ts.close());
    const statuses = await ts.statuses();
    assert.deepEqual(statuses.map((s) => [s.name, s.state]), [["billing", "none"], ["reports", "none"]]);
    assert.equal(statuses[0]!.error, undefined);
    assert.equal(statuses[1]!.error?.code, "config_invalid");
    assert.match(statuses[1]!.error!.message, /REPORTS_SECRET/);
  });

  it("fails with store_error when the store cannot be read, rather than showing a connection without a login (§2.9)", async (t) => {
    const ts = await TokenSmith.load({ config, env: {}, store: unreadableStore() });
    t.after(() => ts.close());
    await assert.rejects(ts.statuses(), (err: unknown) => err instanceof TokenSmithError && err.code === "store_error");
    await assert.rejects(ts.statuses(["billing"]), (err: unknown) => err instanceof TokenSmithError && err.code === "store_error");
  });

  it("gives every row the health model: a client_credentials connection never used is none, a user grant without a login is login_required", async (t) => {
    const user = { grant: "authorization_code", authorization_url: "https://auth.example.com/authorize", token_url: "https://auth.example.com/token", client_id: "u" };
    const ts = await TokenSmith.load({ config: { connections: { billing: connection("s3cret-value"), crm: user } }, env: {}, store: createMemoryStore() });
    t.after(() => ts.close());
    const [billing, crm] = await ts.statuses();
    assert.equal(billing!.health.status, "none");
    assert.equal(billing!.health.renews_by_itself, true);
    assert.equal(billing!.clientAuth, "auto"); // the default with a secret (SPEC §1)
    assert.equal(crm!.health.status, "login_required");
    assert.match(crm!.health.summary, /no login yet/);
  });
});

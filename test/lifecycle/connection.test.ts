import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { TokenSmithError } from "../../src/errors.js";
import { createFileStore } from "../../src/store/file.js";
import { createMemoryStore } from "../../src/store/memory.js";
import { TokenSmith } from "../../src/tokensmith.js";
import { tmpDir } from "../support/demo.js";
import { internals } from "../../src/lifecycle/handle.js";

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

  it("closes at once after its only waiting caller aborted, though another process holds the lease", async (t) => {
    const dir = await tmpDir(t);
    const config = {
      store: { type: "file", dir },
      connections: { billing: { grant: "client_credentials", token_url: "https://auth.example.com/token", client_id: "c", client_secret: "s3cret-value", timeout: 30 } },
    };
    const ts = await TokenSmith.load({ config, env: {} });
    const connection = ts.connection("billing");
    const { fingerprint } = await internals(connection).setup();
    // Another process: holds the state's lease for the whole test.
    const other = await createFileStore({ dir, onWarning: () => {} });
    let release!: () => void;
    const held = other.update(`state:${fingerprint}`, () => new Promise<undefined>((resolve) => (release = () => resolve(undefined))), { mode: "wait", holder: "another process", leaseMs: 60_000 });
    t.after(async () => {
      release();
      await held;
      await other.close();
    });
    await delay(50);
    const leaving = new AbortController();
    const waiting = connection.accessToken({ signal: leaving.signal });
    await delay(100);
    leaving.abort();
    await assert.rejects(waiting, { name: "AbortError" });
    const started = Date.now();
    await ts.close();
    assert.ok(Date.now() - started < 2_000, `close took ${Date.now() - started} ms: the abandoned lease wait should have ended`);
  });
});


import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createStore, defaultStoreDir } from "../../src/store/index.js";

describe("createStore", () => {
  test("the default folder follows XDG_STATE_HOME, else ~/.local/state", () => {
    assert.equal(defaultStoreDir({ XDG_STATE_HOME: "/var/state" }), join("/var/state", "tokensmith"));
    assert.equal(defaultStoreDir({ XDG_STATE_HOME: "relative/ignored" }), join(homedir(), ".local", "state", "tokensmith"));
    assert.equal(defaultStoreDir({}), join(homedir(), ".local", "state", "tokensmith"));
  });

  test("opens a memory store", async () => {
    const store = await createStore({ type: "memory" });
    assert.equal(store.kind, "memory");
    await store.close();
  });

  test("opens a file store in the configured folder with the configured key", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tokensmith-index-"));
    try {
      const store = await createStore({ type: "file", dir, key: randomBytes(32).toString("base64") });
      assert.equal(store.kind, "file");
      await store.update("k", () => ({ v: 1 }), { mode: "wait" });
      await store.close();
      await assert.rejects(stat(join(dir, "tokensmith.key")), { code: "ENOENT" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a malformed key is config_invalid naming store.key or store.old_keys", async () => {
    await assert.rejects(createStore({ type: "file", dir: tmpdir(), key: "c2hvcnQ=" }), { code: "config_invalid", field: "store.key" });
    await assert.rejects(createStore({ type: "memory", oldKeys: ["c2hvcnQ="] }), { code: "config_invalid", field: "store.old_keys[0]" });
  });

  test("networked stores require a url and a key", async () => {
    await assert.rejects(createStore({ type: "postgres", key: randomBytes(32).toString("base64") }), { code: "config_invalid", field: "store.url" });
    await assert.rejects(createStore({ type: "redis", url: "redis://127.0.0.1:1" }), { code: "config_invalid", field: "store.key" });
  });
});

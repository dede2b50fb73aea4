import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { chmod, mkdir, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { createFileStore, KEY_FILE_NAME, recordId } from "../../src/store/file.js";
import { commitGeneration, genPath } from "../../src/store/file-io.js";
import { loadOrCreateKeyFile } from "../../src/store/keyfile.js";
import { keyId } from "../../src/store/sealed.js";
import { startChild } from "./child-process.js";
import { testStoreDriver } from "./conformance.js";
import { flipCiphertext, using } from "./helpers.js";

const root = mkdtempSync(join(tmpdir(), "tokensmith-file-store-"));
after(() => rm(root, { recursive: true, force: true }));
let folders = 0;
const freshDir = () => join(root, `store-${++folders}`);

/** The conformance suite shares one store folder between this process and its children. */
const sharedDir = freshDir();
const sharedKey = randomBytes(32);

/** Flips one character in the middle of the ciphertext of the record's newest generation. */
async function corruptNewest(dir: string, key: string): Promise<string> {
  const folder = join(dir, "records", recordId(key));
  const newest = Math.max(...(await readdir(folder)).filter((f) => f.startsWith("gen-")).map((f) => Number(f.slice(4))));
  const path = genPath(folder, newest);
  await writeFile(path, flipCiphertext(await readFile(path, "utf8")));
  return path;
}

testStoreDriver("file", async (options) => createFileStore({ dir: sharedDir, key: sharedKey, onWarning: options?.onWarning ?? (() => {}) }), {
  tiers: ["in-process", "multi-process", "sealed"],
  makeStoreWithOtherKey: () => createFileStore({ dir: sharedDir, key: randomBytes(32) }),
  childConfig: { type: "file", dir: sharedDir, key: sharedKey.toString("base64") },
  corrupt: async (key) => void (await corruptNewest(sharedDir, key)),
});

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push(path);
  }
  return out;
}
const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe("file store", () => {
  test("folders are 0700 and every file, key and quarantined records included, is 0600", async () => {
    const dir = freshDir();
    await using(await createFileStore({ dir, onWarning: () => {} }), async (store) => {
      await store.update("a", () => ({ v: 1 }), { mode: "wait" });
      await corruptNewest(dir, "a");
      assert.equal(await store.get("a"), undefined);
      await store.update("a", () => ({ v: 2 }), { mode: "wait" });
    });
    const folder = join(dir, "records", recordId("a"));
    for (const d of [dir, join(dir, "records"), folder, join(dir, "quarantine")]) assert.equal(await mode(d), 0o700, d);
    const files = await filesUnder(dir);
    assert.ok(files.some((f) => f.endsWith(KEY_FILE_NAME)) && files.some((f) => f.includes("quarantine")));
    for (const f of files) assert.equal(await mode(f), 0o600, f);
  });

  test("no file on disk contains the stored value in plaintext", async () => {
    const dir = freshDir();
    const secret = `refresh-${randomBytes(12).toString("hex")}`;
    await using(await createFileStore({ dir }), (store) => store.update("k", () => ({ refresh_token: secret }), { mode: "wait" }).then(() => {}));
    for (const f of await filesUnder(dir)) {
      const bytes = await readFile(f);
      for (const needle of [secret, Buffer.from(secret).toString("base64"), Buffer.from(secret).toString("base64url")]) {
        assert.equal(bytes.includes(needle), false, `${f} contains the value`);
      }
    }
  });

  test("a reopened store reads what an earlier one wrote, with the generated key file", async () => {
    const dir = freshDir();
    await using(await createFileStore({ dir }), (store) => store.update("k", () => ({ v: 1 }), { mode: "wait" }).then(() => {}));
    await using(await createFileStore({ dir }), async (store) => assert.deepEqual(await store.get("k"), { generation: 1, value: { v: 1 } }));
  });

  test("four processes creating the key file at once all end with the same key", async () => {
    const path = join(freshDir(), KEY_FILE_NAME);
    const children = Array.from({ length: 4 }, () => startChild(join(import.meta.dirname, "fixtures", "keyfile-child.ts"), { path }));
    const inProcess = await Promise.all(Array.from({ length: 4 }, () => loadOrCreateKeyFile(path)));
    const ids = [...(await Promise.all(children.map((c) => c.next("key")))).map((e) => e.id), ...inProcess.map(keyId)];
    await Promise.all(children.map((c) => c.kill()));
    assert.equal(new Set(ids).size, 1, `keys differ: ${ids.join(", ")}`);
    assert.equal(keyId(await loadOrCreateKeyFile(path)), ids[0]);
  });

  test("a key file readable by others is refused with the chmod that fixes it", async () => {
    const path = join(freshDir(), KEY_FILE_NAME);
    await loadOrCreateKeyFile(path);
    await chmod(path, 0o644);
    await assert.rejects(loadOrCreateKeyFile(path), (err: { code: string; message: string; hint: string }) => {
      return err.code === "store_error" && /readable by other users/.test(err.message) && err.hint === `run: chmod 600 ${path}`;
    });
  });

  test("a missing key file beside sealed records is a lost key (store_error with the recovery hint), never a fresh key", async () => {
    const dir = freshDir();
    await using(await createFileStore({ dir }), (s) => s.update("k", () => ({ v: 1 }), { mode: "wait" }).then(() => {}));
    const keyPath = join(dir, KEY_FILE_NAME);
    await rm(keyPath);
    await assert.rejects(createFileStore({ dir }), (err: { code: string; message: string; hint: string }) => {
      assert.equal(err.code, "store_error");
      assert.match(err.message, /key file .* is missing, but the store holds records/);
      assert.match(err.hint, /restore .*tokensmith\.key.* from a backup[\s\S]*store\.old_keys[\s\S]*logout NAME --discard-unreadable/);
      return true;
    });
    await assert.rejects(stat(keyPath), { code: "ENOENT" });
  });

  test("after key rotation, records under an old key are read, and rewritten under the new one", async () => {
    const dir = freshDir();
    const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
    await using(await createFileStore({ dir, key: oldKey }), (s) => s.update("k", () => ({ v: 1 }), { mode: "wait" }).then(() => {}));
    await using(await createFileStore({ dir, key: newKey, oldKeys: [oldKey] }), async (store) => {
      assert.deepEqual(await store.get("k"), { generation: 1, value: { v: 1 } });
      await store.update("k", () => ({ v: 2 }), { mode: "wait" });
    });
    await using(await createFileStore({ dir, key: newKey }), async (store) => assert.deepEqual(await store.get("k"), { generation: 2, value: { v: 2 } }));
  });

  test("a record under an unknown key is a store_error naming the file, and is left untouched", async () => {
    const dir = freshDir();
    await using(await createFileStore({ dir, key: randomBytes(32) }), (s) => s.update("k", () => ({ v: 1 }), { mode: "wait" }).then(() => {}));
    const path = genPath(join(dir, "records", recordId("k")), 1);
    const before = await readFile(path, "utf8");
    const warnings: string[] = [];
    await using(await createFileStore({ dir, key: randomBytes(32), onWarning: (m) => warnings.push(m) }), async (store) => {
      await assert.rejects(store.get("k"), (err: { code: string; message: string }) => err.code === "store_error" && err.message.includes(path));
      await assert.rejects(store.update("k", () => ({ v: 2 }), { mode: "wait" }), { code: "store_error" });
    });
    assert.equal(await readFile(path, "utf8"), before);
    assert.deepEqual(warnings, []);
    await assert.rejects(stat(join(dir, "quarantine")), { code: "ENOENT" });
  });

  test("a corrupt record is moved to quarantine/ with its bytes intact, and the warning names the file", async () => {
    const dir = freshDir();
    const warnings: string[] = [];
    await using(await createFileStore({ dir, onWarning: (m) => warnings.push(m) }), async (store) => {
      await store.update("k", () => ({ v: 1 }), { mode: "wait" });
      const path = await corruptNewest(dir, "k");
      const damaged = await readFile(path, "utf8");
      assert.equal(await store.get("k"), undefined);
      assert.equal(await store.get("k"), undefined);
      assert.equal(warnings.length, 1);
      assert.ok(warnings[0].includes(path), warnings[0]);
      const kept = await readdir(join(dir, "quarantine"));
      assert.equal(kept.length, 1);
      assert.equal(await readFile(join(dir, "quarantine", kept[0]), "utf8"), damaged);
    });
  });

  test("a record file moved to another record's place fails to open there and is quarantined", async () => {
    const dir = freshDir();
    const warnings: string[] = [];
    await using(await createFileStore({ dir, onWarning: (m) => warnings.push(m) }), async (store) => {
      await store.update("alice", () => ({ who: "alice" }), { mode: "wait" });
      await store.update("bob", () => ({ who: "bob" }), { mode: "wait" });
      await rename(genPath(join(dir, "records", recordId("alice")), 1), genPath(join(dir, "records", recordId("bob")), 1));
      assert.equal(await store.get("bob"), undefined);
      assert.equal(warnings.length, 1);
    });
  });

  test("a write below a newer generation is refused even when its slot was pruned", async () => {
    const folder = join(freshDir(), "r");
    await mkdir(folder, { recursive: true });
    await commitGeneration(folder, 3, "newest");
    // A stale holder that read generation 1 writes generation 2, whose file no longer exists.
    await assert.rejects(commitGeneration(folder, 2, "stale"), { code: "store_error" });
    await assert.rejects(commitGeneration(folder, 3, "stale"), { code: "store_error" });
    assert.deepEqual((await readdir(folder)).sort(), ["gen-3"]);
    assert.equal(await readFile(genPath(folder, 3), "utf8"), "newest");
    await commitGeneration(folder, 4, "next");
  });

  test("a holder whose lease was taken over is refused before it writes", async () => {
    const dir = freshDir();
    const key = randomBytes(32);
    let later = 0;
    const skewed = { now: () => Date.now() + later, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };
    await using(await createFileStore({ dir, key }), async (slow) => {
      await using(await createFileStore({ dir, key, clock: skewed }), async (fast) => {
        const result = slow.update("k", async () => {
          later = 60_000; // from here on, the other store sees this lease as long expired
          assert.equal((await fast.update("k", () => ({ by: "taker" }), { mode: "try", leaseMs: 1_000 })).status, "written");
          return { by: "stale" };
        }, { mode: "wait", leaseMs: 1_000 });
        await assert.rejects(result, { code: "lock_timeout" });
        assert.deepEqual(await fast.get("k"), { generation: 1, value: { by: "taker" } });
      });
    });
  });

  test("old generations and released leases are cleaned up", async () => {
    const dir = freshDir();
    await using(await createFileStore({ dir }), async (store) => {
      for (let i = 0; i < 5; i++) await store.update("k", () => ({ i }), { mode: "wait" });
    });
    const names = await readdir(join(dir, "records", recordId("k")));
    assert.deepEqual(names.sort(), ["gen-5", "lease-5"]);
  });
});

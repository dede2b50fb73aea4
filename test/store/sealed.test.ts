import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { CorruptRecordError, createSealer, keyId, parseKey } from "../../src/store/sealed.js";

const key = randomBytes(32);
const sealer = createSealer({ key });
const value = { access_token: "at-secret-value", n: 1 };

describe("sealed records", () => {
  test("a sealed value opens for the same record key and generation", () => {
    assert.deepEqual(sealer.open("conn-a", 3, sealer.seal("conn-a", 3, value)), value);
  });

  test("the sealed text names the format and key id but holds no plaintext", () => {
    const sealed = sealer.seal("conn-a", 1, value);
    assert.ok(sealed.startsWith(`tsr1.${keyId(key)}.`));
    assert.equal(sealed.includes("at-secret-value"), false);
    assert.notEqual(sealer.seal("conn-a", 1, value), sealed, "every seal uses a fresh IV");
  });

  test("a ciphertext moved to another record or replayed as another generation is corrupt", () => {
    const sealed = sealer.seal("conn-a", 1, value);
    assert.throws(() => sealer.open("conn-b", 1, sealed), CorruptRecordError);
    assert.throws(() => sealer.open("conn-a", 2, sealed), CorruptRecordError);
  });

  test("damaged or foreign content is corrupt, with code store_error", () => {
    const parts = sealer.seal("k", 1, value).split(".");
    parts[3] = (parts[3][0] === "A" ? "B" : "A") + parts[3].slice(1);
    for (const bad of [parts.join("."), "", "hello", "tsr1.a.b.c", `tsr1.${keyId(key)}.AAAA.AAAA.AAAA`]) {
      assert.throws(() => sealer.open("k", 1, bad), (err: unknown) => err instanceof CorruptRecordError && err.code === "store_error", bad);
    }
  });

  test("a record under an unknown key is a store_error that is not corrupt", () => {
    const sealed = createSealer({ key: randomBytes(32) }).seal("k", 1, value);
    assert.throws(
      () => sealer.open("k", 1, sealed),
      (err: unknown) => !(err instanceof CorruptRecordError) && (err as { code: string }).code === "store_error" && /unknown key/.test(String(err)),
    );
  });

  test("a record of a newer format is a store_error that is not corrupt", () => {
    assert.throws(() => sealer.open("k", 1, "tsr9.x.y"), (err: unknown) => !(err instanceof CorruptRecordError) && /newer tokensmith/.test(String(err)));
  });

  test("old keys still open records, and new records use the current key", () => {
    const newKey = randomBytes(32);
    const rotated = createSealer({ key: newKey, oldKeys: [key] });
    assert.deepEqual(rotated.open("k", 1, sealer.seal("k", 1, value)), value);
    assert.ok(rotated.seal("k", 2, value).startsWith(`tsr1.${keyId(newKey)}.`));
    assert.equal(rotated.open<typeof value>("k", 2, Buffer.from(rotated.seal("k", 2, value) + "\n")).n, 1);
  });

  test("parseKey accepts 32 bytes of base64 or base64url", () => {
    assert.deepEqual(parseKey(key.toString("base64")), key);
    assert.deepEqual(parseKey(` ${key.toString("base64url")}\n`), key);
  });

  test("parseKey refuses other lengths with config_invalid naming the field, never the value", () => {
    const short = randomBytes(16).toString("base64");
    assert.throws(() => parseKey(short), (err: { code: string; field: string; message: string }) => {
      return err.code === "config_invalid" && err.field === "store.key" && err.message.includes("store.key") && !err.message.includes(short);
    });
    assert.throws(() => parseKey("not base64 at all!", "store.old_keys[0]"), { code: "config_invalid", field: "store.old_keys[0]" });
  });
});

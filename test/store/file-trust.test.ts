/**
 * A hostile neighbour on the machine (SPEC §2.15): a store folder owned by another user or
 * writable by others, and key, record, lease or gateway-key files that are symlinks, FIFOs,
 * another user's, or readable by others, are refused with `store_error` naming the fix, never
 * accepted with a warning; nothing ever blocks on a FIFO. The tests run as root in CI, so
 * "another user" is made with chown to uid 65534 (nobody); they skip where that is not allowed.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { chmod, chown, mkdir, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { createFileStore, KEY_FILE_NAME, recordId } from "../../src/store/file.js";
import { genPath } from "../../src/store/file-io.js";
import { GATEWAY_KEY_FILE, loadOrCreateGatewayKey } from "../../src/gateway/key-file.js";
import { using } from "./helpers.js";

const root = mkdtempSync(join(tmpdir(), "tokensmith-file-trust-"));
after(() => rm(root, { recursive: true, force: true }));
let folders = 0;
const freshDir = () => join(root, `store-${++folders}`);
const OTHER_UID = 65534;
const isRoot = process.geteuid?.() === 0;
const posix = process.platform !== "win32";
const plantedKey = `${randomBytes(32).toString("base64")}\n`;

/** A store_error whose message matches `what` and whose hint matches `fix`. */
const refused = (what: RegExp, fix: RegExp) => (err: { code?: string; message?: string; hint?: string }) => {
  assert.equal(err.code, "store_error", String(err.message));
  assert.match(String(err.message), what);
  assert.match(String(err.hint), fix);
  return true;
};

/** A folder as an attacker leaves it: the planted key inside, the folder handed to `uid` with `mode`. */
async function plantedFolder(file: string, options: { uid?: number; mode: number }): Promise<string> {
  const dir = freshDir();
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, file), plantedKey, { mode: 0o600 });
  if (options.uid !== undefined) await chown(dir, options.uid, options.uid);
  await chmod(dir, options.mode);
  return dir;
}

describe("file store: a hostile neighbour", { skip: !posix && "POSIX ownership and modes" }, () => {
  test("a store folder owned by another user, with a planted key, is refused", { skip: !isRoot && "needs root to chown" }, async () => {
    const dir = await plantedFolder(KEY_FILE_NAME, { uid: OTHER_UID, mode: 0o700 });
    await assert.rejects(createFileStore({ dir }), refused(/belongs to another user \(uid 65534\)/, /store\.dir|chown/));
  });

  test("a world-writable store folder with a planted key is refused, naming chmod 700", async () => {
    const dir = await plantedFolder(KEY_FILE_NAME, { mode: 0o777 });
    await assert.rejects(createFileStore({ dir }), refused(/writable by other users/, new RegExp(`chmod 700 ${dir}`)));
  });

  test("a key file owned by another user is refused", { skip: !isRoot && "needs root to chown" }, async () => {
    const dir = await plantedFolder(KEY_FILE_NAME, { mode: 0o700 });
    await chown(join(dir, KEY_FILE_NAME), OTHER_UID, OTHER_UID);
    await assert.rejects(createFileStore({ dir }), refused(/key file .* belongs to another user/, /remove it/));
  });

  test("a key file that is a symlink is refused, not followed", async () => {
    const dir = await plantedFolder("elsewhere.key", { mode: 0o700 });
    await symlink(join(dir, "elsewhere.key"), join(dir, KEY_FILE_NAME));
    await assert.rejects(createFileStore({ dir }), refused(/symbolic link/, /remove it/));
  });

  test("a FIFO at the key path is refused at once instead of hanging", async () => {
    const dir = freshDir();
    await mkdir(dir, { recursive: true, mode: 0o700 });
    execFileSync("mkfifo", ["-m", "600", join(dir, KEY_FILE_NAME)]);
    await assert.rejects(createFileStore({ dir }), refused(/not a regular file/, /remove it/));
  });

  test("a record file that is a FIFO, a symlink or readable by others is refused, not read", async () => {
    const dir = freshDir();
    const key = randomBytes(32);
    await using(createFileStore({ dir, key }), (s) => s.update("k", () => ({ v: 1 }), { mode: "wait" }).then(() => {}));
    const path = genPath(join(dir, "records", recordId("k")), 1);
    await chmod(path, 0o644);
    await using(createFileStore({ dir, key }), (s) => assert.rejects(s.get("k"), refused(/record file .* readable by other users/, /chmod 600/)));
    await unlink(path);
    execFileSync("mkfifo", ["-m", "600", path]);
    await using(createFileStore({ dir, key }), (s) => assert.rejects(s.get("k"), refused(/not a regular file/, /remove it/)));
    await unlink(path);
    await symlink(join(dir, KEY_FILE_NAME), path);
    await using(createFileStore({ dir, key }), (s) => assert.rejects(s.get("k"), refused(/symbolic link/, /remove it/)));
  });
});

describe("gateway key file: a hostile neighbour", { skip: !posix && "POSIX ownership and modes" }, () => {
  test("a planted gateway.key in a folder owned by another user is refused", { skip: !isRoot && "needs root to chown" }, async () => {
    const dir = await plantedFolder(GATEWAY_KEY_FILE, { uid: OTHER_UID, mode: 0o755 });
    await assert.rejects(loadOrCreateGatewayKey(join(dir, GATEWAY_KEY_FILE)), refused(/belongs to another user/, /chown|store\.dir/));
  });

  test("a planted gateway.key in a world-writable folder is refused", async () => {
    const dir = await plantedFolder(GATEWAY_KEY_FILE, { mode: 0o777 });
    await assert.rejects(loadOrCreateGatewayKey(join(dir, GATEWAY_KEY_FILE)), refused(/writable by other users/, /chmod 700/));
  });

  test("a gateway.key that is another user's, readable by others, a symlink or a FIFO is refused", async () => {
    const dir = freshDir();
    const path = join(dir, GATEWAY_KEY_FILE);
    const first = await loadOrCreateGatewayKey(path);
    assert.equal(await loadOrCreateGatewayKey(path), first);
    await chmod(path, 0o644);
    await assert.rejects(loadOrCreateGatewayKey(path), refused(/readable by other users/, /chmod 600/));
    if (isRoot) {
      await chmod(path, 0o600);
      await chown(path, OTHER_UID, OTHER_UID);
      await assert.rejects(loadOrCreateGatewayKey(path), refused(/belongs to another user/, /remove it/));
    }
    await unlink(path);
    await writeFile(join(dir, "other"), plantedKey, { mode: 0o600 });
    await symlink(join(dir, "other"), path);
    await assert.rejects(loadOrCreateGatewayKey(path), refused(/symbolic link/, /remove it/));
    await unlink(path);
    execFileSync("mkfifo", ["-m", "600", path]);
    await assert.rejects(loadOrCreateGatewayKey(path), refused(/not a regular file/, /remove it/));
  });
});

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmod, chown, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { TokenSmithError } from "../../src/errors.js";
import { loadConfig, type LoadOptions } from "../../src/config/load.js";
import { forgetConfig, trustConfig, trustListPath } from "../../src/config/trust.js";
import { TokenSmith } from "../../src/tokensmith.js";

/**
 * SPEC §1 Trust: a config found in the working folder is used only once trusted, with the
 * content it had then; a config file another user owns or may write is refused wherever it
 * was found.
 */

const CONFIG = "connections:\n  a:\n    token_url: https://auth.example.com/token\n    client_id: id\n    client_secret: ${file:~/.aws/credentials}\n";
/** uid of `nobody`: "another user" for a test run as root. */
const OTHER_UID = 65534;
const isRoot = process.getuid?.() === 0;

let root: string;
let cwd: string;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "tokensmith-trust-"));
  cwd = join(root, "clone");
  await mkdir(cwd, { recursive: true });
  env = { HOME: join(root, "home"), XDG_STATE_HOME: join(root, "state") };
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function refusal(options: LoadOptions, code = "config_untrusted"): Promise<TokenSmithError> {
  const err = await loadConfig(options).then(
    () => assert.fail("expected the config to be refused"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof TokenSmithError, String(err));
  assert.equal(err.code, code, err.message);
  return err;
}

describe("a config found in the working folder", () => {
  it("is refused until trusted, with the tokensmith trust hint, before anything of it is read", async () => {
    const path = join(cwd, "tokensmith.yaml");
    await writeFile(path, CONFIG);
    const err = await refusal({ cwd, env });
    assert.ok(err.message.includes(path), err.message);
    assert.match(err.message, /not trusted/);
    assert.match(err.hint ?? "", /tokensmith trust/);
    assert.match(err.hint ?? "", /--config/);
    // Not even parsed: a broken file is refused as untrusted, not reported line by line.
    await writeFile(path, "connections: [unclosed\n");
    await refusal({ cwd, env });
  });

  it("is used once trusted, refused again after any change, and again after --revoke", async () => {
    const path = join(cwd, "tokensmith.yaml");
    await writeFile(path, CONFIG);
    await trustConfig(path, env);
    assert.deepEqual((await loadConfig({ cwd, env })).connectionNames(), ["a"]);
    await writeFile(path, CONFIG.replace("auth.example.com", "attacker.example"));
    const changed = await refusal({ cwd, env });
    assert.match(changed.message, /changed since it was trusted/);
    await trustConfig(path, env);
    assert.equal((await loadConfig({ cwd, env })).source, "cwd");
    assert.deepEqual(await forgetConfig(path, env), { path, trusted: false, wasTrusted: true });
    await refusal({ cwd, env });
  });

  it("is trusted by path: the same content in another clone is not", async () => {
    await writeFile(join(cwd, "tokensmith.yaml"), CONFIG);
    await trustConfig(join(cwd, "tokensmith.yaml"), env);
    const other = join(root, "other-clone");
    await mkdir(other);
    await writeFile(join(other, "tokensmith.yaml"), CONFIG);
    await refusal({ cwd: other, env });
  });

  it("is refused by TokenSmith.load() too: the library runs the same lookup", async () => {
    await writeFile(join(cwd, "tokensmith.yaml"), CONFIG);
    const err = await TokenSmith.load({ cwd, env }).then(
      () => assert.fail("expected TokenSmith.load to refuse"),
      (e: unknown) => e as TokenSmithError,
    );
    assert.equal(err.code, "config_untrusted");
  });

  it("keeps the trust list owner-only in $XDG_STATE_HOME/tokensmith, else ~/.local/state/tokensmith", async () => {
    const path = join(cwd, "tokensmith.yaml");
    await writeFile(path, CONFIG);
    await trustConfig(path, env);
    const list = trustListPath(env);
    assert.equal(list, join(root, "state", "tokensmith", "trusted-configs.json"));
    assert.equal((await stat(list)).mode & 0o777, 0o600);
    const saved = JSON.parse(await readFile(list, "utf8"));
    assert.match(saved.configs[path].sha256, /^[0-9a-f]{64}$/);
    assert.equal(trustListPath({ HOME: "/home/ann" }), "/home/ann/.local/state/tokensmith/trusted-configs.json");
  });

  it("is not trusted through a trust list others may write", async () => {
    const path = join(cwd, "tokensmith.yaml");
    await writeFile(path, CONFIG);
    await trustConfig(path, env);
    await chmod(trustListPath(env), 0o666);
    const err = await refusal({ cwd, env });
    assert.match(err.message, /trust list .* writable by group or others/);
  });
});

describe("a damaged trust list", () => {
  it("trusts nothing and says how to recover", async () => {
    await writeFile(join(cwd, "tokensmith.yaml"), CONFIG);
    await mkdir(join(root, "state", "tokensmith"), { recursive: true });
    await writeFile(trustListPath(env), "{not json", { mode: 0o600 });
    const err = await refusal({ cwd, env });
    assert.match(err.message, /trust list .* is not readable/);
    assert.match(err.hint ?? "", /delete it/);
  });
});

describe("configs the user named or keeps", () => {
  it("need no trust: the config option, $TOKENSMITH_CONFIG and the XDG user config", async () => {
    const named = join(root, "named.yaml");
    await writeFile(named, CONFIG);
    assert.equal((await loadConfig({ config: named, cwd, env })).source, "option");
    assert.equal((await loadConfig({ cwd, env: { ...env, TOKENSMITH_CONFIG: named } })).source, "env");
    await mkdir(join(env.HOME!, ".config", "tokensmith"), { recursive: true });
    await writeFile(join(env.HOME!, ".config", "tokensmith", "config.yaml"), CONFIG);
    assert.equal((await loadConfig({ cwd, env })).source, "xdg");
  });
});

describe("a config file others could change", () => {
  for (const mode of [0o664, 0o646]) {
    it(`is refused wherever found when its mode is ${mode.toString(8)}, with the chmod to fix it`, async () => {
      const named = join(root, "named.yaml");
      await writeFile(named, CONFIG);
      await chmod(named, mode);
      for (const options of [{ config: named, cwd, env }, { cwd, env: { ...env, TOKENSMITH_CONFIG: named } }]) {
        const err = await refusal(options);
        assert.match(err.message, /writable by group or others/);
        assert.equal(err.hint, `chmod go-w ${named}`);
      }
      const local = join(cwd, "tokensmith.yaml");
      await writeFile(local, CONFIG);
      await trustConfig(local, env);
      await chmod(local, mode);
      await refusal({ cwd, env });
      // Nor can it be trusted in that state.
      await assert.rejects(trustConfig(local, env), { code: "config_untrusted" });
    });
  }

  it("is refused when another user owns it, even named explicitly", { skip: !isRoot && "needs root to chown" }, async () => {
    const named = join(root, "named.yaml");
    await writeFile(named, CONFIG);
    await chown(named, OTHER_UID, OTHER_UID);
    const err = await refusal({ config: named, cwd, env });
    assert.match(err.message, new RegExp(`owned by another user \\(uid ${OTHER_UID}\\)`));
    await assert.rejects(trustConfig(named, env), { code: "config_untrusted" });
  });

  it("is refused as not a regular file when it is a FIFO, instead of blocking the read", async () => {
    const fifo = join(root, "fifo.yaml");
    execFileSync("mkfifo", [fifo]);
    const err = await refusal({ config: fifo, cwd, env }, "config_invalid");
    assert.match(err.message, /not a regular file/);
  });
});

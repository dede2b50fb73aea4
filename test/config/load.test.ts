import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { TokenSmithError } from "../../src/errors.js";
import { loadConfig } from "../../src/config/load.js";
import { trustConfig } from "../../src/config/trust.js";

/** A one-connection config whose connection name tells which file was loaded. */
const config = (name: string) =>
  `connections:\n  ${name}:\n    token_url: https://auth.example.com/token\n    client_id: id\n    client_secret: \${env:SECRET}\n`;

let root: string;
let cwd: string;
let home: string;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "tokensmith-load-"));
  cwd = join(root, "project");
  home = join(root, "home");
  await mkdir(cwd, { recursive: true });
  await mkdir(home, { recursive: true });
  env = { HOME: home };
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function write(path: string, text: string): Promise<string> {
  await mkdir(join(path, ".."), { recursive: true });
  await writeFile(path, text);
  return path;
}

/** A config in the working folder, trusted as `tokensmith trust` would (SPEC §1 Trust). */
async function writeLocal(name: string, text: string): Promise<string> {
  const path = await write(join(cwd, name), text);
  await trustConfig(path, env);
  return path;
}

async function loadError(options: Parameters<typeof loadConfig>[0]): Promise<TokenSmithError> {
  const err = await loadConfig(options).then(
    () => assert.fail("expected loadConfig to fail"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof TokenSmithError);
  assert.equal(err.code, "config_invalid");
  return err;
}

describe("config lookup order", () => {
  it("uses the config option before everything else", async () => {
    const explicit = await write(join(root, "explicit.yaml"), config("explicit"));
    await write(join(cwd, "tokensmith.yaml"), config("local"));
    env.TOKENSMITH_CONFIG = await write(join(root, "env.yaml"), config("fromenv"));
    const loaded = await loadConfig({ config: explicit, cwd, env });
    assert.deepEqual(loaded.connectionNames(), ["explicit"]);
    assert.equal(loaded.source, "option");
    assert.equal(loaded.path, explicit);
    assert.equal(loaded.dir, root);
  });

  it("resolves a relative config option against cwd", async () => {
    await write(join(cwd, "conf", "my.yml"), config("relative"));
    const loaded = await loadConfig({ config: "conf/my.yml", cwd, env });
    assert.deepEqual(loaded.connectionNames(), ["relative"]);
    assert.equal(loaded.dir, join(cwd, "conf"));
  });

  it("takes $TOKENSMITH_CONFIG before the working folder", async () => {
    await write(join(cwd, "tokensmith.yaml"), config("local"));
    env.TOKENSMITH_CONFIG = await write(join(root, "env.yaml"), config("fromenv"));
    const loaded = await loadConfig({ cwd, env });
    assert.deepEqual(loaded.connectionNames(), ["fromenv"]);
    assert.equal(loaded.source, "env");
  });

  it("takes ./tokensmith.yaml before the XDG config folder", async () => {
    await writeLocal("tokensmith.yaml", config("local"));
    await write(join(home, ".config", "tokensmith", "config.yaml"), config("user"));
    const loaded = await loadConfig({ cwd, env });
    assert.deepEqual(loaded.connectionNames(), ["local"]);
    assert.equal(loaded.source, "cwd");
  });

  it("accepts tokensmith.yml and tokensmith.json in the working folder", async () => {
    await writeLocal("tokensmith.json", JSON.stringify({ connections: { json: { token_url: "https://a.example/t", client_id: "i", client_secret: "s3cr3t" } } }));
    assert.deepEqual((await loadConfig({ cwd, env })).connectionNames(), ["json"]);
    await rm(join(cwd, "tokensmith.json"));
    await writeLocal("tokensmith.yml", config("yml"));
    assert.deepEqual((await loadConfig({ cwd, env })).connectionNames(), ["yml"]);
  });

  it("falls back to $XDG_CONFIG_HOME/tokensmith/config.yaml", async () => {
    const xdg = join(root, "xdg");
    await write(join(xdg, "tokensmith", "config.yaml"), config("xdg"));
    await write(join(home, ".config", "tokensmith", "config.yaml"), config("home"));
    const loaded = await loadConfig({ cwd, env: { ...env, XDG_CONFIG_HOME: xdg } });
    assert.deepEqual(loaded.connectionNames(), ["xdg"]);
    assert.equal(loaded.source, "xdg");
  });

  it("falls back to ~/.config/tokensmith/config.yaml without $XDG_CONFIG_HOME", async () => {
    await write(join(home, ".config", "tokensmith", "config.yaml"), config("home"));
    assert.deepEqual((await loadConfig({ cwd, env })).connectionNames(), ["home"]);
  });

  it("accepts the config as an object, relative paths taken from cwd", async () => {
    const loaded = await loadConfig({ config: { connections: {} }, cwd, env });
    assert.equal(loaded.source, "object");
    assert.equal(loaded.path, undefined);
    assert.equal(loaded.dir, cwd);
    assert.deepEqual(loaded.connectionNames(), []);
  });

  it("refuses two candidate files in one folder", async () => {
    await write(join(cwd, "tokensmith.yaml"), config("a"));
    await write(join(cwd, "tokensmith.json"), "{}");
    const err = await loadError({ cwd, env });
    assert.match(err.message, /more than one config file/);
    assert.match(err.message, /tokensmith\.yaml, tokensmith\.json/);
  });

  it("explains where it looked and how to start when no config exists", async () => {
    const err = await loadError({ cwd, env });
    assert.match(err.message, /no tokensmith config found/);
    assert.ok(err.hint?.includes(join(cwd, "tokensmith.yaml")));
    assert.ok(err.hint?.includes(join(home, ".config", "tokensmith", "config.yaml")));
    assert.match(err.hint ?? "", /tokensmith demo/);
  });

  it("reports a missing file named by $TOKENSMITH_CONFIG instead of looking further", async () => {
    await write(join(cwd, "tokensmith.yaml"), config("local"));
    const err = await loadError({ cwd, env: { ...env, TOKENSMITH_CONFIG: join(root, "missing.yaml") } });
    assert.match(err.message, /missing\.yaml not found/);
    assert.match(err.hint ?? "", /TOKENSMITH_CONFIG/);
  });
});

describe("config parsing", () => {
  it("names the file and line of a YAML syntax error without quoting the line", async () => {
    const path = await writeLocal("tokensmith.yaml", "connections:\n  a:\n    client_secret: hunter2-secret\n    client_secret: again-secret\n");
    const err = await loadError({ cwd, env });
    assert.ok(err.message.startsWith(`${path}:4:`), err.message);
    assert.match(err.message, /not valid YAML/);
    assert.ok(!err.message.includes("hunter2-secret") && !err.message.includes("again-secret"));
  });

  it("names the file and line of a JSON syntax error without quoting the text", async () => {
    const path = await writeLocal("tokensmith.json", '{\n  "connections": {\n    "a": { "client_secret": "json-secret-value" }\n  },\n}\n');
    const err = await loadError({ cwd, env });
    assert.ok(err.message.startsWith(`${path}:5:`), err.message);
    assert.match(err.message, /not valid JSON/);
    assert.ok(!err.message.includes("json-secret-value"));
  });

  it("treats an empty file as a config without connections", async () => {
    await writeLocal("tokensmith.yaml", "");
    assert.deepEqual((await loadConfig({ cwd, env })).connectionNames(), []);
  });

  it("treats empty sections as absent", async () => {
    await writeLocal("tokensmith.yaml", "store:\ngateway:\nconnections:\n");
    const loaded = await loadConfig({ cwd, env });
    assert.deepEqual(loaded.connectionNames(), []);
    assert.equal(loaded.store, undefined);
  });

  it("supports YAML anchors and merge keys for shared settings", async () => {
    await writeLocal(
      "tokensmith.yaml",
      "connections:\n  a: &base\n    token_url: https://auth.example.com/token\n    client_id: id\n    client_secret: s3cr3t-value\n  b:\n    <<: *base\n    scopes: [x]\n",
    );
    const loaded = await loadConfig({ cwd, env });
    assert.equal(loaded.connections.b.client_id, "id");
    assert.deepEqual(loaded.connections.b.scopes, ["x"]);
  });

  it("does not resolve references at load, so other connections' secrets are not needed", async () => {
    await writeLocal("tokensmith.yaml", config("a"));
    const loaded = await loadConfig({ cwd, env });
    assert.equal(loaded.connections.a.client_secret, "${env:SECRET}");
  });

  it("lists every schema problem in one error", async () => {
    await writeLocal("tokensmith.yaml", "connections:\n  a:\n    grant: magic\n    timeout: soon\n    scopes: 3\n");
    const err = await loadError({ cwd, env });
    assert.match(err.message, /connections\.a\.grant: must be one of/);
    assert.match(err.message, /connections\.a\.timeout: not a duration/);
    assert.match(err.message, /connections\.a\.scopes: expected a list of scopes/);
    assert.equal(err.field, "connections.a.grant");
    assert.ok(err.hint?.includes("tokensmith.yaml"), "the hint names the file");
  });
});

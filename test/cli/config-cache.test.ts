import assert from "node:assert/strict";
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { configCache, isExactJson } from "../../src/cli/config-cache.js";
import { loadConfig } from "../../src/config/load.js";
import { TokenSmithError } from "../../src/errors.js";
import { cliProcess } from "../support/cli.js";

let dir: string;
let env: NodeJS.ProcessEnv;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tokensmith-config-cache-"));
  env = { HOME: dir, XDG_CACHE_HOME: join(dir, "cache") };
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const CONFIG = [
  "connections:",
  "  billing:",
  "    grant: client_credentials",
  "    token_url: https://auth.example.com/token",
  "    client_id: app",
  "    client_secret: inline-secret-value",
  "    token_params: {n: 1}",
  "",
].join("\n");

async function writeConfig(text = CONFIG): Promise<string> {
  const path = join(dir, "tokensmith.yaml");
  await writeFile(path, text);
  return path;
}

async function cacheFiles(): Promise<string[]> {
  const folder = join(dir, "cache", "tokensmith");
  return (await readdir(folder)).map((name) => join(folder, name));
}

describe("the CLI's config cache", () => {
  it("gives the validated config back for the same text, and nothing for another text or build", async () => {
    const path = await writeConfig();
    const cache = configCache("build-1", env)!;
    const first = await loadConfig({ config: path, env, cache });
    const stored = cache.get(path, CONFIG);
    assert.deepEqual(stored, { connections: first.connections });
    assert.equal(first.connections.billing.token_params?.n, "1", "zod's output (a transformed value), not the file's");
    assert.equal(cache.get(path, `${CONFIG}# edited\n`), undefined);
    assert.equal(configCache("build-2", env)!.get(path, CONFIG), undefined);
    const again = await loadConfig({ config: path, env, cache });
    assert.deepEqual(again.connections, first.connections);
  });

  it("keeps no readable copy of an inline secret, and files only its owner may write", async () => {
    const path = await writeConfig();
    await loadConfig({ config: path, env, cache: configCache("build-1", env) });
    const [file] = await cacheFiles();
    assert.doesNotMatch((await readFile(file)).toString("latin1"), /inline-secret-value|billing|client_id/);
    await chmod(file, 0o666);
    assert.equal(configCache("build-1", env)!.get(path, CONFIG), undefined, "a file others may write is not trusted");
  });

  it("caches nothing for an invalid config: its errors stay the validator's, every run", async () => {
    const path = await writeConfig(CONFIG.replace("client_id", "client_idd"));
    const cache = configCache("build-1", env);
    for (let i = 0; i < 2; i++) {
      await assert.rejects(loadConfig({ config: path, env, cache }), (err: TokenSmithError) => {
        assert.equal(err.code, "config_invalid");
        assert.match(err.message, /connections\.billing\.client_idd: unknown field/);
        return true;
      });
    }
    await assert.rejects(cacheFiles(), { code: "ENOENT" });
  });

  it("keeps only values JSON carries exactly", () => {
    assert.equal(isExactJson({ a: ["x", 1, true, null, { b: 2.5 }] }), true);
    assert.equal(isExactJson({ a: Infinity }), false);
    assert.equal(isExactJson({ a: -0 }), false);
    assert.equal(isExactJson({ a: undefined }), false);
    assert.equal(isExactJson({ a: new Date(0) }), false);
    assert.equal(isExactJson(JSON.parse('{"__proto__": {"x": 1}}')), false);
  });

  it("is used by the binary: a second run reads the cache, and an edit is seen at once", async () => {
    const path = await writeConfig();
    const run = () => cliProcess(["connections", "--json", "--config", path], { env });
    const first = await run();
    assert.equal(first.code, 0, first.stderr);
    assert.equal((await cacheFiles()).length, 1);
    assert.deepEqual(await run(), first);
    await writeConfig(CONFIG.replace("client_id: app", "client_idd: app"));
    const edited = await run();
    assert.equal(edited.code, 2);
    assert.match(edited.stdout, /client_idd: unknown field/);
  });
});

import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { stringify } from "yaml";
import { demoConfig } from "../../src/demo/config.js";
import { trustConfig } from "../../src/config/trust.js";
import { TokenSmith } from "../../src/tokensmith.js";
import { tmpDir, withDemoServer } from "../support/demo.js";

/** The demo config written to a file, loaded from it: the file is what a reload re-reads. */
async function demoFromFile(t: TestContext): Promise<{ ts: TokenSmith; config: any; path: string; dir: string }> {
  const server = await withDemoServer(t);
  const dir = await tmpDir(t);
  const path = join(dir, "tokensmith.yaml");
  const config: any = demoConfig(server, { dir: join(dir, "store") });
  await writeFile(path, stringify(config));
  const ts = await TokenSmith.load({ config: path, env: {} });
  t.after(() => ts.close());
  return { ts, config, path, dir };
}

describe("TokenSmith.reload", () => {
  it("applies added, removed and changed connections and keeps the token state of unchanged ones", async (t) => {
    const { ts, config, path, dir } = await demoFromFile(t);
    const before = await ts.connection("demo-service").accessToken();

    config.connections["demo-copy"] = { ...config.connections["demo-service"] };
    config.connections["demo-jwt"].scopes = ["api:read", "api:write"];
    delete config.connections["demo-password"];
    await writeFile(path, stringify(config));
    assert.deepEqual(await ts.reload(), { added: ["demo-copy"], removed: ["demo-password"], changed: ["demo-jwt"], warnings: [] });
    assert.deepEqual(ts.connectionNames(), ["demo-service", "demo-user", "demo-jwt", "demo-copy"]);
    assert.throws(() => ts.connection("demo-password"), /unknown connection "demo-password"/);
    assert.equal(await ts.connection("demo-service").accessToken(), before, "the same token, from memory or the store");
    // Same settings, same fingerprint: the added copy shares the state (§2.1).
    assert.equal(await ts.connection("demo-copy").accessToken(), before);
  });

  it("refuses a config that does not validate and keeps the one it has; warns that a new store waits for a restart", async (t) => {
    const { ts, config, path, dir } = await demoFromFile(t);
    await writeFile(path, stringify({ ...config, connections: { ...config.connections, broken: { grant: "nonsense" } } }));
    await assert.rejects(ts.reload(), (err: any) => err.code === "config_invalid" && /broken/.test(err.message));
    assert.deepEqual(ts.connectionNames(), ["demo-service", "demo-user", "demo-password", "demo-jwt"]);
    assert.ok(await ts.connection("demo-service").accessToken());
    await writeFile(path, stringify({ ...config, store: { type: "file", dir: join(dir, "elsewhere") } }));
    assert.deepEqual((await ts.reload()).warnings, ["store changed: the running process keeps its store until it is restarted"]);
  });

  it("checks a working-folder config's trust again: an edit since it was trusted is refused and the old config runs on", async (t) => {
    const server = await withDemoServer(t);
    const dir = await tmpDir(t);
    const env = { HOME: dir, XDG_CONFIG_HOME: join(dir, "xdg") };
    const path = join(dir, "tokensmith.yaml");
    const config: any = demoConfig(server, { dir: join(dir, "store") });
    await writeFile(path, stringify(config), { mode: 0o600 });
    await trustConfig(path, env);
    const ts = await TokenSmith.load({ cwd: dir, env });
    t.after(() => ts.close());
    // A pull brings a changed file: a fresh start would refuse it, and so does a reload.
    config.connections["planted"] = { ...config.connections["demo-service"], token_url: "https://elsewhere.example/token" };
    await writeFile(path, stringify(config));
    await assert.rejects(TokenSmith.load({ cwd: dir, env }), (err: any) => err.code === "config_untrusted");
    await assert.rejects(ts.reload(), (err: any) => err.code === "config_untrusted");
    assert.deepEqual(ts.connectionNames(), ["demo-service", "demo-user", "demo-password", "demo-jwt"]);
    await trustConfig(path, env);
    assert.deepEqual((await ts.reload()).added, ["planted"], "trusted again, it is read");
  });
});

import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { configSchema } from "../../src/config/schema.js";
import { DEMO_KEY_FILE, demoConfig, writeDemoConfig } from "../../src/demo/config.js";
import { tmpDir, withDemoServer } from "../support/demo.js";

/** Permission bits only. */
const PERMISSIONS = 0o777;

test("the demo config names the demo connections and passes the config schema", async (t) => {
  const server = await withDemoServer(t);
  const config = demoConfig(server, { dir: "/tmp/state" }) as { store: unknown; connections: Record<string, Record<string, unknown>> };
  assert.deepEqual(config.store, { type: "file", dir: "/tmp/state" });
  assert.deepEqual(Object.keys(config.connections), ["demo-service", "demo-user", "demo-password", "demo-jwt"]);
  assert.equal(config.connections["demo-user"].client_auth, "none");
  assert.deepEqual(config.connections["demo-user"].scopes, ["openid", "offline_access"]);
  assert.equal(config.connections["demo-jwt"].private_key, server.clients.privateKeyJwt.privateKeyPem);
  const checked = configSchema.safeParse(config);
  assert.ok(checked.success, JSON.stringify(checked.error?.issues));
});

test("writeDemoConfig writes owner-only YAML and a private key file it references", async (t) => {
  const server = await withDemoServer(t);
  const dir = await tmpDir(t);
  const path = join(dir, "tokensmith.yaml");
  await writeDemoConfig(server, path);

  const config = parse(await readFile(path, "utf8")) as { store: { dir: string }; connections: Record<string, Record<string, unknown>> };
  assert.equal(config.connections["demo-jwt"].private_key, `\${file:${DEMO_KEY_FILE}}`);
  assert.equal(config.connections["demo-service"].client_secret, server.clients.basic.clientSecret);
  assert.equal(config.store.dir, join(dir, "state"));
  assert.equal(await readFile(join(dir, DEMO_KEY_FILE), "utf8"), server.clients.privateKeyJwt.privateKeyPem);
  for (const file of [path, join(dir, DEMO_KEY_FILE)]) {
    assert.equal((await stat(file)).mode & PERMISSIONS, 0o600, file);
  }
  assert.ok(configSchema.safeParse(config).success);
});

import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { stringify } from "yaml";
import { EXIT, exitCodeOf } from "../../src/cli/exit-codes.js";
import { demoConfig } from "../../src/demo/config.js";
import { TokenSmithError, toTokenSmithError } from "../../src/errors.js";
import { startGateway } from "../../src/gateway/start.js";
import { TokenSmith } from "../../src/tokensmith.js";
import { cli } from "../support/cli.js";
import { tmpDir, withDemoServer } from "../support/demo.js";
import { assertMatchesSchema } from "../support/json-schema.js";
import { freePort } from "../support/tinyproxy.js";

/**
 * SPEC §4: "the same code for the same failure in the library, the CLI and the gateway".
 * Each failure is driven through all three against the same config and store: the library's
 * `TokenSmithError.code`, `tokensmith token NAME --json`'s `error.code` (and its exit code),
 * and `GET /v1/connections/NAME/token`'s `error.code`.
 */

const KEY = "same-code-key-0123456789abcdef";

/** What each surface answered for `name`. */
async function codes(path: string, name: string): Promise<{ library: string; cli: string; gateway: string; exit: number; status: number }> {
  const ts = await TokenSmith.load({ config: path, env: {} });
  let library: TokenSmithError | undefined;
  try {
    await ts.connection(name).token();
  } catch (err) {
    library = toTokenSmithError(err);
  } finally {
    await ts.close();
  }
  assert.ok(library, `the library got a token for ${name}`);
  const run = await cli(["token", name, "--json", "--config", path]);
  const printed = JSON.parse(run.stdout);
  assertMatchesSchema("error", printed);
  assert.equal(run.code, exitCodeOf(library), "the CLI's exit code is the library error's");
  const gateway = await startGateway({ config: path, env: {} });
  try {
    const res = await fetch(`${gateway.url}/v1/connections/${encodeURIComponent(name)}/token`, { headers: { authorization: `Bearer ${KEY}` } });
    const body = await res.json();
    assertMatchesSchema("gateway-error", body);
    assert.equal(body.error.connection, name, "the gateway's error names the connection");
    assert.equal(printed.error.connection, name, "the CLI's error names the connection");
    return { library: library.code, cli: printed.error.code, gateway: body.error.code, exit: run.code, status: res.status };
  } finally {
    await gateway.close();
  }
}

/** A demo config with two failing connections; `write(store)` rewrites it with more file store settings. */
async function demoSetup(t: TestContext) {
  const server = await withDemoServer(t);
  const dir = await tmpDir(t);
  const config: any = demoConfig(server, { dir: join(dir, "store") });
  config.connections["wrong-secret"] = { ...config.connections["demo-service"], client_secret: "not-the-secret-0123456789" };
  config.connections.unreachable = { grant: "client_credentials", token_url: `http://127.0.0.1:${await freePort()}/token`, client_id: "c", client_secret: "s", timeout: 2 };
  config.gateway = { port: 0, api_keys: [{ key: KEY }] };
  const path = join(dir, "tokensmith.yaml");
  const write = (store: Record<string, unknown> = {}) => writeFile(path, stringify({ ...config, store: { ...config.store, ...store } }), { mode: 0o600 });
  await write();
  return { path, write };
}

describe("the same failure has the same code in the library, the CLI and the gateway", () => {
  it("an unknown connection, invalid_client from the server, and a server that cannot be reached", async (t) => {
    const { path } = await demoSetup(t);
    const cases: [string, string, number, number][] = [
      ["no-such-connection", "config_invalid", EXIT.usage, 404],
      ["wrong-secret", "oauth_error", EXIT.refused, 502],
      ["unreachable", "network_error", EXIT.unavailable, 504],
    ];
    for (const [name, code, exit, status] of cases) {
      const got = await codes(path, name);
      assert.deepEqual(got, { library: code, cli: code, gateway: code, exit, status }, name);
    }
  });

  it("a store that cannot be read: its record sealed under a key the config no longer has", async (t) => {
    const { path, write } = await demoSetup(t);
    await write({ key: randomBytes(32).toString("base64") });
    const ts = await TokenSmith.load({ config: path, env: {} });
    await ts.connection("demo-service").token();
    await ts.close();
    await write({ key: randomBytes(32).toString("base64") });
    assert.deepEqual(await codes(path, "demo-service"), { library: "store_error", cli: "store_error", gateway: "store_error", exit: EXIT.unavailable, status: 503 });
  });
});

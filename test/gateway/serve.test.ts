import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { stringify } from "yaml";
import { TokenSmithError } from "../../src/errors.js";
import { startGateway } from "../../src/gateway/start.js";
import { cli, hasStackTrace } from "../support/cli.js";
import { tmpDir } from "../support/demo.js";
import { startServe } from "./serve-process.js";

/** A config file with a file store in the test's folder and no connections. */
async function writeConfig(t: TestContext, gateway: Record<string, unknown> = {}): Promise<{ dir: string; path: string }> {
  const dir = await tmpDir(t);
  const path = join(dir, "tokensmith.yaml");
  await writeFile(path, stringify({ store: { type: "file", dir: join(dir, "store") }, gateway, connections: {} }));
  return { dir, path };
}

/** A loopback port held by another listener for the rest of the test. */
async function busyPort(t: TestContext): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

describe("tokensmith serve", () => {
  it("exits 2 when the configured port is busy, or the --port given is", async (t) => {
    const port = await busyPort(t);
    const { path } = await writeConfig(t, { port });
    const configured = await cli(["serve", "--config", path]);
    assert.equal(configured.code, 2);
    assert.match(configured.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
    const flag = await cli(["serve", "--config", (await writeConfig(t)).path, "--port", String(port), "--json"]);
    assert.equal(flag.code, 2);
    assert.equal(JSON.parse(flag.stdout).error.code, "port_in_use");
  });

  it("exits 2 for a non-loopback --host without gateway.tls", async (t) => {
    const { path } = await writeConfig(t);
    const result = await cli(["serve", "--config", path, "--host", "0.0.0.0", "--port", "0"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /needs gateway\.tls/);
  });

  it("refuses to start with a gateway key from ${env:} that could never authenticate, naming the field and not the key", async (t) => {
    for (const value of ["gateway key with spaces 0123", "short-gw-key"]) {
      const { path } = await writeConfig(t, { port: 0, api_keys: [{ key: "${env:TS_TEST_GATEWAY_KEY}" }] });
      const started = startGateway({ config: path, env: { TS_TEST_GATEWAY_KEY: value } });
      const err = await started.then(
        async (gateway) => {
          await gateway.close();
          return assert.fail(`started with ${JSON.stringify(value)}`);
        },
        (e: unknown) => e,
      );
      assert.ok(err instanceof TokenSmithError, String(err));
      assert.equal(err.code, "config_invalid");
      assert.equal(err.field, "gateway.api_keys[0].key");
      assert.match(err.hint ?? "", /openssl rand/);
      assert.ok(!JSON.stringify(err.toJSON()).includes(value));
    }
  });

  it("prints its URL, a one-time sign-in URL and where the key is (not the key), then stops cleanly on SIGTERM", async (t) => {
    const { dir, path } = await writeConfig(t);
    const serve = await startServe(t, dir, ["--config", path]);
    const { url, exited, child } = serve;
    const stderr = serve.stderr();
    const signIn = /sign-in \(one-time URL\): (\S+)/.exec(stderr)![1];
    const keyFile = /API key: in (\S+) /.exec(stderr)![1];
    assert.equal(keyFile, join(dir, "store", "gateway.key"));
    const key = (await readFile(keyFile, "utf8")).trim();
    assert.ok(!stderr.includes(key), "the key itself is never printed");
    assert.ok(signIn.startsWith(`${url}/login?token=`));
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    assert.equal((await fetch(`${url}/v1/connections`, { headers: { authorization: `Bearer ${key}` } })).status, 200);
    assert.equal((await fetch(signIn, { redirect: "manual" })).status, 303);
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
    assert.match(serve.stderr(), /SIGTERM: stopping the gateway/);
    assert.equal(serve.stdout(), "");
  });

  for (const verbose of [false, true]) {
    it(`logs a request answered with a 500 on its stderr: one redacted line${verbose ? ", and the stack with --verbose" : ", no stack"}`, async (t) => {
      const dir = await tmpDir(t);
      const path = join(dir, "tokensmith.yaml");
      // A secret the gateway cannot resolve: the token route answers 500 config_invalid.
      const connection = { grant: "client_credentials", token_url: "https://auth.example.com/token", client_id: "c", client_secret: "${env:TS_TEST_UNSET_SECRET}" };
      await writeFile(path, stringify({ store: { type: "file", dir: join(dir, "store") }, connections: { billing: connection } }));
      const serve = await startServe(t, dir, ["--config", path, ...(verbose ? ["--verbose"] : [])]);
      const key = (await readFile(join(dir, "store", "gateway.key"), "utf8")).trim();
      const before = serve.stderr();
      const res = await fetch(`${serve.url}/v1/connections/billing/token`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(res.status, 500);
      assert.equal((await res.json()).error.code, "config_invalid");
      const logged = await serve.waitFor(/error: GET \/v1\/connections\/billing\/token: 500 config_invalid \[billing\]: .*TS_TEST_UNSET_SECRET.*\n/);
      const added = logged.slice(before.length);
      assert.match(added, /^\d{4}-\d\d-\d\dT[\d:.]+Z error: /, "a timestamped line");
      if (verbose) assert.ok(hasStackTrace(added), `--verbose shows the stack: ${added}`);
      else assert.equal(added.trim().split("\n").length, 1, `one line, no stack: ${added}`);
      assert.ok(!added.includes(key), "the key is never logged");
      serve.child.kill("SIGTERM");
      assert.equal(await serve.exited, 0);
    });
  }

  it("re-reads its config on SIGHUP, logging what changed; a config that does not validate is logged and the old one runs on", async (t) => {
    const { dir, path } = await writeConfig(t);
    const serve = await startServe(t, dir, ["--config", path]);
    const key = (await readFile(join(dir, "store", "gateway.key"), "utf8")).trim();
    const names = async () => ((await (await fetch(`${serve.url}/v1/connections`, { headers: { authorization: `Bearer ${key}` } })).json()) as { name: string }[]).map((c) => c.name);
    const billing = { grant: "client_credentials", token_url: "https://auth.example.com/token", client_id: "c", client_secret: "s" };
    await writeFile(path, stringify({ store: { type: "file", dir: join(dir, "store") }, connections: { billing } }));
    serve.child.kill("SIGHUP");
    await serve.waitFor(/Z config reloaded: added billing\n/);
    assert.deepEqual(await names(), ["billing"]);
    await writeFile(path, stringify({ store: { type: "file", dir: join(dir, "store") }, connections: { billing: { ...billing, grant: "nonsense" }, other: billing } }));
    serve.child.kill("SIGHUP");
    const logged = await serve.waitFor(/config reload failed: .*billing.*; still serving the previous config\n/);
    assert.equal(logged.match(/sign-in \(one-time URL\)/g)?.length, 1, "no new sign-in URL");
    assert.deepEqual(await names(), ["billing"], "the previous config runs on");
    serve.child.kill("SIGTERM");
    assert.equal(await serve.exited, 0);
  });

  it("logs nothing for the client's own mistakes (4xx)", async (t) => {
    const { dir, path } = await writeConfig(t);
    const serve = await startServe(t, dir, ["--config", path]);
    const before = serve.stderr();
    assert.equal((await fetch(`${serve.url}/v1/connections/nope/token`, { headers: { authorization: "Bearer wrong-key-0123456789abcdef" } })).status, 401);
    const key = (await readFile(join(dir, "store", "gateway.key"), "utf8")).trim();
    assert.equal((await fetch(`${serve.url}/v1/connections/nope/token`, { headers: { authorization: `Bearer ${key}` } })).status, 404);
    serve.child.kill("SIGTERM");
    assert.equal(await serve.exited, 0);
    assert.doesNotMatch(serve.stderr().slice(before.length), /error/);
  });
});

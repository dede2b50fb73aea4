import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { stringify } from "yaml";
import { cli } from "../support/cli.js";
import { tmpDir } from "../support/demo.js";

const CHILD = join(import.meta.dirname, "fixtures", "cli-child.ts");
/** Starting a child with tsx takes a second or two on a busy machine; allow for a very busy one. */
const START_TIMEOUT_MS = 20_000;

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

  it("prints its URL, a one-time sign-in URL and where the key is (not the key), then stops cleanly on SIGTERM", async (t) => {
    const { dir, path } = await writeConfig(t);
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, "serve", "--config", path, "--port", "0"], {
      cwd: join(import.meta.dirname, "..", ".."),
      env: { PATH: process.env.PATH, HOME: dir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    t.after(() => child.kill("SIGKILL"));
    let stderr = "";
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), START_TIMEOUT_MS);
      child.stderr.on("data", (d) => {
        stderr += d;
        if (/API key: in .+\n/.test(stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)![1];
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
    assert.match(stderr, /SIGTERM: stopping the gateway/);
    assert.equal(stdout, "");
  });
});

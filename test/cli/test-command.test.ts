import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { stringify } from "yaml";
import { cliProcess } from "../support/cli.js";
import { tmpDir, withDemoServer } from "../support/demo.js";

/** Issue 13 item 2: a fix loop in seconds (`test --force-refresh`, client errors keyed by the credentials). */
async function setup(t: TestContext, connections: Record<string, Record<string, unknown>>) {
  const server = await withDemoServer(t);
  const dir = await tmpDir(t);
  const path = join(dir, "tokensmith.yaml");
  const base = { grant: "client_credentials", token_url: server.endpoints.token, client_id: server.clients.basic.clientId, scopes: ["api.read"] };
  const all = Object.fromEntries(Object.entries(connections).map(([name, c]) => [name, { ...base, ...c }]));
  await writeFile(path, stringify({ store: { type: "file", dir: join(dir, "state") }, connections: all }));
  const run = (args: string[], env: Record<string, string> = {}) => cliProcess([...args, "--config", path], { env: { ...process.env, ...env } });
  return { server, run };
}

describe("tokensmith test", () => {
  it("--force-refresh asks again at once after a remembered invalid_client; fixing the secret clears it at once", async (t) => {
    const { server, run } = await setup(t, { billing: { client_secret: "${env:TS_TEST_SECRET}" } });
    const wrong = { TS_TEST_SECRET: "not-the-secret-0123456789" };
    const first = await run(["test", "billing"], wrong);
    assert.notEqual(first.code, 0);
    assert.match(first.stdout, /FAIL token: .*invalid_client/);
    const again = await run(["test", "billing"], wrong);
    assert.match(again.stdout, /not asked again for \d+ s \(to ask now: `tokensmith test \S+ --force-refresh`\)/);
    const forced = await run(["test", "billing", "--force-refresh"], wrong);
    assert.notEqual(forced.code, 0, forced.stderr);
    assert.doesNotMatch(forced.stderr, /unknown option/);
    assert.doesNotMatch(forced.stdout, /not asked again/, "the server was asked again");
    const status = await run(["status", "billing"], wrong);
    assert.match(status.stdout, /billing: failing \(client_credentials\)/);
    assert.match(status.stdout, /asked again in \d+s/);
    // The right secret: no --force-refresh needed, the remembered error was another secret's.
    const fixed = await run(["test", "billing"], { TS_TEST_SECRET: server.clients.basic.clientSecret });
    assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
    assert.match(fixed.stdout, /ok {3}token: got a Bearer token \(expires in /);
    const healthy = await run(["status", "billing", "--json"], { TS_TEST_SECRET: server.clients.basic.clientSecret });
    const json = JSON.parse(healthy.stdout) as { health: { status: string; expires_in: number; renews_by_itself: boolean } };
    assert.equal(json.health.status, "ready");
    assert.equal(json.health.renews_by_itself, true);
    assert.ok(json.health.expires_in > 3000);
  });

  it("a connection with a wrong secret does not fail a correctly configured one that shares its token state", async (t) => {
    const { server, run } = await setup(t, {
      broken: { client_secret: "not-the-secret-0123456789" },
      good: { client_secret: "${env:TS_GOOD_SECRET}" },
    });
    const env = { TS_GOOD_SECRET: server.clients.basic.clientSecret };
    const listing = JSON.parse((await run(["status", "--json"], env)).stdout) as { connection: string; shared_with: string[] }[];
    assert.deepEqual(listing.find((s) => s.connection === "good")?.shared_with, ["broken"], "the two share a token state");
    const broken = await run(["token", "broken"], env);
    assert.notEqual(broken.code, 0);
    assert.match(broken.stderr, /invalid_client/);
    const good = await run(["token", "good"], env);
    assert.equal(good.code, 0, good.stderr);
    assert.ok(good.stdout.trim().length > 10);
  });
});

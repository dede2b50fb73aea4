import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { stringify } from "yaml";
import { cli } from "../support/cli.js";
import { tmpDir } from "../support/demo.js";
import { json, startServer } from "../protocol/helpers.js";

const SECRET = "status-Secret-Value-0123456789";

const service = (clientId = "svc") => ({
  grant: "client_credentials",
  token_url: "https://auth.example.com/token",
  client_id: clientId,
  client_secret: SECRET,
  scopes: ["invoices.read"],
});

async function writeConfig(t: TestContext, config: Record<string, unknown>): Promise<string> {
  const dir = await tmpDir(t);
  const path = join(dir, "tokensmith.yaml");
  await writeFile(path, stringify({ store: { type: "file", dir: join(dir, "state") }, ...config }));
  return path;
}

describe("tokensmith status", () => {
  it("shows a logout as a removal, not as a problem", async (t) => {
    const path = await writeConfig(t, { connections: { billing: service() } });
    assert.equal((await cli(["logout", "billing", "--config", path])).code, 0);
    const { stdout } = await cli(["status", "billing", "--config", path]);
    assert.match(stdout, /\n {2}removed {8}by logout at \d{4}-/);
    assert.doesNotMatch(stdout, /problem/);
    const json = JSON.parse((await cli(["status", "billing", "--json", "--config", path])).stdout);
    assert.equal(json.removed.reason, "logout");
    assert.equal(json.problem, null);
  });

  it("says which connections share a token state, and never shows a secret", async (t) => {
    const path = await writeConfig(t, { connections: { billing: service(), invoices: { ...service(), scopes: "invoices.read" }, other: service("another") } });
    const { code, stdout, stderr } = await cli(["status", "--config", path]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /billing: none \(client_credentials\)[\s\S]*shares state with invoices/);
    assert.ok(!stdout.includes(SECRET) && !stderr.includes(SECRET));
    const json = JSON.parse((await cli(["status", "--json", "--config", path])).stdout) as { connection: string; shared_with: string[]; state_id: string }[];
    const byName = Object.fromEntries(json.map((s) => [s.connection, s]));
    assert.deepEqual(byName.billing.shared_with, ["invoices"]);
    assert.deepEqual(byName.other.shared_with, []);
    assert.equal(byName.billing.state_id, byName.invoices.state_id);
    assert.notEqual(byName.billing.state_id, byName.other.state_id);
  });

  it("lists a connection whose secret is not set as a problem, and the others normally", async (t) => {
    const path = await writeConfig(t, { connections: { billing: service(), broken: { ...service("b"), client_secret: "${env:TS_STATUS_TEST_UNSET}" } } });
    const { code, stdout } = await cli(["status", "--json", "--config", path]);
    assert.equal(code, 0);
    const [billing, broken] = JSON.parse(stdout) as { state: string; problem: string | null }[];
    assert.equal(billing.state, "none");
    assert.match(broken.problem ?? "", /TS_STATUS_TEST_UNSET/);
  });

  it("fails with store_error and exit code 4 when the store cannot be read, instead of showing no state", async (t) => {
    const dir = await tmpDir(t);
    await writeFile(join(dir, "not-a-folder"), "");
    const path = join(dir, "tokensmith.yaml");
    await writeFile(path, stringify({ store: { type: "file", dir: join(dir, "not-a-folder", "state") }, connections: { billing: service() } }));
    const { code, stdout } = await cli(["status", "--json", "--config", path]);
    assert.equal(code, 4);
    assert.equal(JSON.parse(stdout).error.code, "store_error");
  });

  it("shows a state under a replaced store key as one unreadable row, and logout --discard-unreadable removes it", async (t) => {
    const dir = await tmpDir(t);
    const path = join(dir, "tokensmith.yaml");
    const config = (key: string) => stringify({ store: { type: "file", dir: join(dir, "state"), key }, connections: { billing: service(), other: service("another") } });
    await writeFile(path, config(randomBytes(32).toString("base64")));
    assert.equal((await cli(["logout", "billing", "--config", path])).code, 0); // a record sealed under the first key
    await writeFile(path, config(randomBytes(32).toString("base64")));

    const listing = await cli(["status", "--json", "--config", path]);
    assert.equal(listing.code, 0, listing.stderr);
    const [billing, other] = JSON.parse(listing.stdout) as { connection: string; state: string; problem: string | null; grant: string; error: unknown }[];
    assert.equal(billing.state, "unreadable");
    assert.equal(billing.grant, "client_credentials");
    assert.match(billing.problem ?? "", /unknown key[\s\S]*tokensmith logout billing --discard-unreadable/);
    assert.equal(billing.error, null);
    assert.equal(other.state, "none");
    const text = await cli(["status", "--config", path]);
    assert.match(text.stdout, /^billing: unreadable \(client_credentials\)/m);

    const plain = await cli(["logout", "billing", "--json", "--config", path]);
    assert.equal(plain.code, 4);
    assert.equal(JSON.parse(plain.stdout).error.code, "store_error");
    const discard = await cli(["logout", "billing", "--discard-unreadable", "--config", path]);
    assert.equal(discard.code, 0, discard.stderr);
    const after = JSON.parse((await cli(["status", "billing", "--json", "--config", path])).stdout) as { state: string; removed: { reason: string } | null };
    assert.equal(after.state, "none");
    assert.equal(after.removed?.reason, "logout");
  });
});

describe("tokensmith status and test with client_auth: auto", () => {
  it("show the method auto found and the line that pins it", async (t) => {
    // A token endpoint that takes the client's credentials only in the body.
    const server = await startServer((req, res) => {
      const body = new URLSearchParams(req.body);
      if (req.headers.authorization || body.get("client_secret") !== SECRET) return json(res, 401, { error: "invalid_client" });
      return json(res, 200, { access_token: "at-auto", token_type: "Bearer", expires_in: 3600 });
    });
    t.after(() => server.close());
    const path = await writeConfig(t, { connections: { billing: { ...service(), token_url: `${server.url}/token` } } });
    const tested = await cli(["test", "billing", "--config", path]);
    assert.equal(tested.code, 0, tested.stderr);
    assert.match(tested.stdout + tested.stderr, /client_auth auto found post, pin it with client_auth: post/);
    const { stdout } = await cli(["status", "billing", "--config", path]);
    assert.match(stdout, /\n {2}client auth {4}auto found post; to pin it, set client_auth: post/);
    assert.equal(server.requests.length, 3);
  });
});

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { hostname } from "node:os";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { stringify } from "yaml";
import { internals } from "../../src/lifecycle/handle.js";
import type { TokenState } from "../../src/lifecycle/state.js";
import { TokenSmith } from "../../src/tokensmith.js";
import { cli, cliProcess, hasStackTrace } from "../support/cli.js";
import { tmpDir } from "../support/demo.js";
import { assertMatchesSchema, assertSnakeCase } from "../support/json-schema.js";

const SECRET = "log-cli-Secret-0123456789";
const DESCRIPTION = "the-description-says-log-cli-Secret-0123456789";

type Answer = { status: number; body: Record<string, unknown> };

/** A token endpoint answering request n with `answer(n)`: tokens `at-N` / `rt-N` unless told otherwise. */
async function tokenEndpoint(t: TestContext, answer: (n: number) => Answer = (n) => ({ status: 200, body: { access_token: `log-at-${n}-0123456789`, token_type: "Bearer", expires_in: 3600 } })) {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const { status, body } = answer(++n);
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/oauth/token`, requests: () => n };
}

async function writeConfig(t: TestContext, tokenUrl: string, extra: Record<string, unknown> = {}): Promise<string> {
  const dir = await tmpDir(t);
  const path = join(dir, "tokensmith.yaml");
  const billing = { grant: "client_credentials", token_url: tokenUrl, client_id: "my-client", client_secret: SECRET, scopes: ["invoices.read"] };
  await writeFile(path, stringify({ store: { type: "file", dir: join(dir, "state") }, connections: { billing, ...extra } }));
  return path;
}

interface LogJson {
  connection: string;
  shared_with: string[];
  entries: { at: string; connection: string; grant: string | null; result: string; duration_ms: number | null; code: string | null; error: string | null; status: number | null; process: string; reason: string | null }[];
}

async function logJson(path: string, name = "billing", ...args: string[]): Promise<LogJson> {
  const { code, stdout, stderr } = await cli(["log", name, "--json", "--config", path, ...args]);
  assert.equal(code, 0, stderr);
  const doc = JSON.parse(stdout) as LogJson;
  assertMatchesSchema("log", doc);
  assertSnakeCase(doc);
  return doc;
}

/** The token state as stored, decrypted (what any process reads). */
async function storedState(path: string): Promise<TokenState | undefined> {
  const ts = await TokenSmith.load({ config: path, env: {} });
  try {
    const { store, manager } = await internals(ts.connection("billing")).setup();
    return (await store.get<TokenState>(manager.key))?.value;
  } finally {
    await ts.close();
  }
}

describe("tokensmith log", () => {
  it("lists each token request once, with its grant, result, duration and process, and a cached token adds none", async (t) => {
    const server = await tokenEndpoint(t);
    const path = await writeConfig(t, server.url);
    for (let i = 0; i < 3; i++) assert.equal((await cli(["token", "billing", "--config", path])).code, 0);
    assert.equal((await cli(["token", "billing", "--force-refresh", "--config", path])).code, 0);
    assert.equal(server.requests(), 2);
    const doc = await logJson(path);
    assert.equal(doc.connection, "billing");
    assert.deepEqual(doc.shared_with, []);
    assert.equal(doc.entries.length, 2);
    for (const e of doc.entries) {
      assert.equal(e.grant, "client_credentials");
      assert.equal(e.result, "ok");
      assert.equal(e.connection, "billing");
      assert.equal(e.process, `${process.pid}@${hostname()}`);
      assert.ok(e.duration_ms !== null && e.duration_ms >= 0);
      assert.equal(e.code, null);
    }
    assert.ok(Date.parse(doc.entries[0]!.at) >= Date.parse(doc.entries[1]!.at), "newest first");
    const { stdout } = await cli(["log", "billing", "--config", path]);
    assert.match(stdout, /^billing: the last 2 token requests, newest first\nTIME +AGE +GRANT +RESULT +DURATION +CODE +PROCESS\n/);
    assert.match(stdout, /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +(just now|\ds ago) +client_credentials +ok +\d+ ms +- +\d+@/);
  });

  it("logs failed requests with their codes only: an OAuth error, and transient failures that change nothing else", async (t) => {
    const server = await tokenEndpoint(t, (n) =>
      n === 1
        ? { status: 503, body: { error: "temporarily_unavailable" } }
        : n === 2
          ? { status: 200, body: { access_token: "log-at-ok-0123456789", token_type: "Bearer", expires_in: 3600 } }
          : { status: 401, body: { error: "invalid_client", error_description: DESCRIPTION } },
    );
    const path = await writeConfig(t, server.url);
    assert.equal((await cli(["token", "billing", "--config", path])).code, 0);
    const refused = await cli(["token", "billing", "--force-refresh", "--config", path]);
    assert.equal(refused.code, 3);
    const doc = await logJson(path);
    assert.deepEqual(
      doc.entries.map((e) => [e.result, e.code, e.error, e.status]),
      [
        ["error", "oauth_error", "invalid_client", 401],
        ["ok", null, null, null],
        ["error", "oauth_error", "temporarily_unavailable", 503],
      ],
    );
    const text = (await cli(["log", "billing", "--config", path])).stdout;
    assert.match(text, /error +\d+ ms +oauth_error invalid_client HTTP 401/);
    // No secret, no token, no server description: in the output nor in the stored history.
    const state = await storedState(path);
    const history = JSON.stringify(state?.history);
    for (const secret of [SECRET, DESCRIPTION, "log-at-ok-0123456789", "description"]) {
      assert.ok(!text.includes(secret) && !JSON.stringify(doc).includes(secret) && !history.includes(secret), `${secret} shown`);
    }
    assert.equal(state?.accessToken, "log-at-ok-0123456789", "the token itself is still stored as before");
  });

  it("keeps the history through a logout, with the removal as an entry, and after the next login or token", async (t) => {
    const server = await tokenEndpoint(t);
    const path = await writeConfig(t, server.url);
    assert.equal((await cli(["token", "billing", "--config", path])).code, 0);
    assert.equal((await cli(["logout", "billing", "--config", path])).code, 0);
    assert.equal((await cli(["token", "billing", "--config", path])).code, 0);
    const doc = await logJson(path);
    assert.deepEqual(doc.entries.map((e) => [e.result, e.grant, e.reason]), [["ok", "client_credentials", null], ["removed", null, "logout"], ["ok", "client_credentials", null]]);
    assert.match((await cli(["log", "billing", "--config", path])).stdout, /removed +- +logout +\d+@/);
  });

  it("shows the shared state's entries for each connection sharing it, naming who asked", async (t) => {
    const server = await tokenEndpoint(t);
    const dir = await tmpDir(t);
    const path = join(dir, "tokensmith.yaml");
    const billing = { grant: "client_credentials", token_url: server.url, client_id: "my-client", client_secret: SECRET, scopes: ["invoices.read"] };
    await writeFile(path, stringify({ store: { type: "file", dir: join(dir, "state") }, connections: { billing, invoices: { ...billing, scopes: "invoices.read" } } }));
    assert.equal((await cli(["token", "billing", "--config", path])).code, 0);
    assert.equal((await cli(["token", "invoices", "--force-refresh", "--config", path])).code, 0);
    const doc = await logJson(path, "invoices");
    assert.deepEqual(doc.shared_with, ["billing"]);
    assert.deepEqual(doc.entries.map((e) => e.connection), ["invoices", "billing"]);
    const text = (await cli(["log", "billing", "--config", path])).stdout;
    assert.match(text, /shares its token state with invoices: their requests are listed too/);
    assert.match(text, /PROCESS +CONNECTION\n.*invoices\n.*billing\n$/);
  });

  it("shows the requests of every process that shares the store", async (t) => {
    const server = await tokenEndpoint(t);
    const path = await writeConfig(t, server.url);
    const env = { TOKENSMITH_CONFIG: path };
    for (const run of await Promise.all([cliProcess(["token", "billing", "--force-refresh"], { env }), cliProcess(["token", "billing", "--force-refresh"], { env })])) {
      assert.equal(run.code, 0, run.stderr);
    }
    const doc = await logJson(path);
    assert.equal(doc.entries.length, 2);
    const processes = new Set(doc.entries.map((e) => e.process));
    assert.equal(processes.size, 2, "two processes");
    for (const p of processes) assert.notEqual(p, `${process.pid}@${hostname()}`);
    // ... and another process reads them too.
    const other = await cliProcess(["log", "billing", "--json"], { env });
    assert.equal(other.code, 0, other.stderr);
    assert.deepEqual(JSON.parse(other.stdout), doc);
  });

  it("keeps the last 50 requests and `--limit` shows fewer; a bad limit is a usage error", async (t) => {
    const server = await tokenEndpoint(t);
    const path = await writeConfig(t, server.url);
    const ts = await TokenSmith.load({ config: path, env: {} });
    try {
      for (let i = 0; i < 53; i++) await ts.connection("billing").token({ forceRefresh: true });
      const log = await ts.connection("billing").history();
      assert.equal(log.entries.length, 50);
      assert.equal((await ts.connection("billing").history({ limit: 3 })).entries.length, 3);
    } finally {
      await ts.close();
    }
    assert.equal((await logJson(path, "billing", "--limit", "5")).entries.length, 5);
    for (const bad of ["0", "51", "x"]) {
      const { code, stdout, stderr } = await cli(["log", "billing", "--limit", bad, "--json", "--config", path]);
      assert.equal(code, 2, stderr);
      assert.equal(JSON.parse(stdout).error.code, "usage_error");
      assert.match(JSON.parse(stdout).error.message, /--limit must be a whole number from 1 to 50/);
      assert.ok(!hasStackTrace(stderr));
    }
  });

  it("says so when nothing was requested yet, and names an unknown connection", async (t) => {
    const server = await tokenEndpoint(t);
    const path = await writeConfig(t, server.url);
    assert.equal((await cli(["log", "billing", "--config", path])).stdout, "billing: no token requests recorded yet\n");
    assert.deepEqual((await logJson(path)).entries, []);
    const unknown = await cli(["log", "nope", "--config", path]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /nope/);
  });
});

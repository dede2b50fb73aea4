import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { internals } from "../../src/lifecycle/handle.js";
import type { TokenState } from "../../src/lifecycle/state.js";
import { createMemoryStore } from "../../src/store/memory.js";
import { TokenSmith } from "../../src/tokensmith.js";
import { demoConfig } from "../../src/demo/config.js";
import { cliProcess } from "../support/cli.js";
import { tmpDir, withDemoServer } from "../support/demo.js";
import { assertMatchesSchema } from "../support/json-schema.js";
import { browse } from "../flows/fixtures/browser.mjs";
import { dropStoreSection, SHARED_URL, storeSection, writeHostConfigs, type NetworkStoreKind } from "./fixtures/fleet.js";

/**
 * The request history lives in the token state, so it is in whatever store holds that: every
 * process's requests show, on the file, Postgres and Redis stores alike, encrypted with the
 * rest of the record; and the memory store keeps it for its one process.
 */

/** A rotating refresh token (a password grant once, then refreshes): the richest history. */
const CONNECTION = "demo-password";

interface LogDoc {
  entries: { grant: string | null; result: string; process: string; reason: string | null }[];
}

/** The raw bytes of the store's records (files, rows, keys), to check the history is sealed with the record. */
async function rawStore(kind: "file" | NetworkStoreKind, where: string, name: string): Promise<string> {
  if (kind === "file") {
    const files = (await readdir(where, { recursive: true })) as string[];
    return (await Promise.all(files.filter((f) => f.startsWith("records")).map((f) => readFile(join(where, f), "utf8").catch(() => "")))).join("\n");
  }
  if (kind === "postgres") {
    const { default: pg } = await import("pg");
    const client = new pg.Client({ connectionString: where });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT * FROM "${name}".tokensmith_states`);
      return JSON.stringify(rows);
    } finally {
      await client.end();
    }
  }
  const { Redis } = await import("ioredis");
  const client = new Redis(where);
  try {
    const keys = await client.keys(`${name}*`);
    const values = await Promise.all(keys.map((k) => client.type(k).then((type) => (type === "hash" ? client.hgetall(k).then((h) => JSON.stringify(h)) : type === "string" ? client.get(k) : ""))));
    return values.join("\n");
  } finally {
    await client.quit();
  }
}

/** Two processes refresh, a third reads the log; the entries are both processes', and the stored bytes show none of it. */
async function twoProcesses(t: TestContext, kind: "file" | NetworkStoreKind) {
  const server = await withDemoServer(t);
  const dir = await tmpDir(t);
  let store: Record<string, unknown>;
  let name = "";
  if (kind === "file") store = { type: "file", dir: join(dir, "store") };
  else {
    ({ section: store, name } = storeSection(kind, SHARED_URL[kind]));
    t.after(() => dropStoreSection(kind, SHARED_URL[kind], name));
  }
  const [a, b] = await writeHostConfigs(server, dir, store, 2);
  const first = await cliProcess(["token", CONNECTION, "--config", a!]);
  assert.equal(first.code, 0, first.stderr);
  const second = await cliProcess(["token", CONNECTION, "--force-refresh", "--config", b!]);
  assert.equal(second.code, 0, second.stderr);
  const read = await cliProcess(["log", CONNECTION, "--json", "--config", a!]);
  assert.equal(read.code, 0, read.stderr);
  const doc = JSON.parse(read.stdout) as LogDoc;
  assertMatchesSchema("log", doc);
  assert.deepEqual(doc.entries.map((e) => [e.grant, e.result]), [["refresh_token", "ok"], ["password", "ok"]]);
  assert.equal(new Set(doc.entries.map((e) => e.process)).size, 2, "each process's own request");
  const raw = await rawStore(kind, kind === "file" ? join(dir, "store") : SHARED_URL[kind], name);
  assert.match(raw, /tsr1\./, "the store holds the sealed record");
  for (const plain of ["refresh_token", "history", first.stdout.trim()]) assert.ok(!raw.includes(plain), `"${plain}" readable in the stored bytes`);
}

describe("the request history in every store", () => {
  it("memory: kept for its one process, through a logout", async (t) => {
    const server = await withDemoServer(t);
    const ts = await TokenSmith.load({ config: demoConfig(server, { dir: await tmpDir(t) }), env: {}, store: createMemoryStore() });
    t.after(() => ts.close());
    const connection = ts.connection(CONNECTION);
    const token = await connection.accessToken();
    await connection.token({ forceRefresh: true });
    await connection.logout();
    const log = await connection.history();
    assert.deepEqual(log.entries.map((e) => [e.grant, e.result, e.reason]), [[null, "removed", "logout"], ["refresh_token", "ok", null], ["password", "ok", null]]);
    assert.ok(log.entries.every((e) => e.process === `${process.pid}@${hostname()}` && e.connection === CONNECTION));
    const { store, manager } = await internals(connection).setup();
    const history = JSON.stringify((await store.get<TokenState>(manager.key))?.value.history);
    assert.ok(!history.includes(token), "no token in the history");
  });

  it("a login logs its code exchange, and the refresh after it follows", async (t) => {
    const server = await withDemoServer(t, { autoLogin: true });
    const ts = await TokenSmith.load({ config: demoConfig(server, { dir: join(await tmpDir(t), "store") }), env: {} });
    t.after(() => ts.close());
    const user = ts.connection("demo-user");
    await user.login({ openUrl: async (url) => (void browse(url, { mode: "follow" }), true) });
    await user.token({ forceRefresh: true });
    const { entries } = await user.history();
    assert.deepEqual(entries.map((e) => [e.grant, e.result]), [["refresh_token", "ok"], ["authorization_code", "ok"]]);
    assert.ok(entries[1]!.durationMs !== null && entries[1]!.durationMs >= 0);
  });

  for (const kind of ["file", "postgres", "redis"] as const) {
    it(`${kind}: every process's requests show, sealed with the record`, (t) => twoProcesses(t, kind));
  }
});

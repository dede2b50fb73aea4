import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, test } from "node:test";
import pg from "pg";
import { createPostgresStore } from "../../src/store/postgres.js";
import { MIGRATIONS, SCHEMA_VERSION, migrate, quoteIdent, tablesOf } from "../../src/store/postgres-schema.js";
import { testStoreDriver } from "./conformance.js";
import { flipCiphertext, using } from "./helpers.js";
import { testOutages } from "./outage.js";
import { startPrivatePostgres } from "./servers.js";

/** The shared test database (trust auth); override for another machine. */
const URL = process.env.TOKENSMITH_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
/** Every run works in schemas of its own, dropped afterwards, so runs never collide. */
const RUN = randomBytes(4).toString("hex");
const schemas: string[] = [];
const freshSchema = () => {
  const name = `tokensmith_test_${RUN}_${schemas.length}`;
  schemas.push(name);
  return name;
};

const admin = new pg.Pool({ connectionString: URL, max: 2 });
after(async () => {
  for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdent(s)} CASCADE`);
  await admin.end();
});

const sharedSchema = freshSchema();
const sharedKey = randomBytes(32);
const open = (options: { schema?: string; key?: Buffer; oldKeys?: Buffer[]; onWarning?: (m: string) => void; url?: string } = {}) =>
  createPostgresStore({ url: options.url ?? URL, key: options.key ?? sharedKey, oldKeys: options.oldKeys ?? [], schema: options.schema ?? sharedSchema, onWarning: options.onWarning ?? (() => {}) });

/** Flips one character in the middle of the ciphertext of the stored record. */
async function corrupt(schema: string, key: string): Promise<void> {
  const t = tablesOf(schema);
  const { rows } = await admin.query<{ data: string }>(`SELECT data FROM ${t.states} WHERE key = $1`, [key]);
  await admin.query(`UPDATE ${t.states} SET data = $2 WHERE key = $1`, [key, flipCiphertext(rows[0].data)]);
}

testStoreDriver("postgres", (options) => open({ onWarning: options?.onWarning }), {
  tiers: ["in-process", "multi-process", "sealed"],
  makeStoreWithOtherKey: () => open({ key: randomBytes(32) }),
  childConfig: { type: "postgres", url: URL, schema: sharedSchema, key: sharedKey.toString("base64") },
  corrupt: (key) => corrupt(sharedSchema, key),
});

describe("postgres store", () => {
  test("migrations run once however many processes start at once, and are recorded by version", async () => {
    const schema = freshSchema();
    const pools = Array.from({ length: 3 }, () => new pg.Pool({ connectionString: URL, max: 1 }));
    try {
      const results = await Promise.all(pools.map((p) => migrate(p, schema, () => {})));
      assert.deepEqual(results.map((r) => r.applied).flat(), MIGRATIONS.map((m) => m.version));
      assert.ok(results.every((r) => r.version === SCHEMA_VERSION));
      assert.deepEqual(await migrate(pools[0], schema, () => {}), { applied: [], version: SCHEMA_VERSION });
      const { rows } = await admin.query(`SELECT version, description FROM ${tablesOf(schema).migrations} ORDER BY version`);
      assert.deepEqual(rows, MIGRATIONS.map((m) => ({ version: m.version, description: m.description })));
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  test("a schema migrated by a newer tokensmith is used, with a warning", async () => {
    const schema = freshSchema();
    await using(open({ schema }), (s) => s.update("k", () => ({ v: 1 }), { mode: "wait" }).then(() => {}));
    await admin.query(`INSERT INTO ${tablesOf(schema).migrations} (version, description) VALUES (999, 'from the future')`);
    const warnings: string[] = [];
    await using(open({ schema, onWarning: (m) => warnings.push(m) }), async (s) => assert.deepEqual(await s.get("k"), { generation: 1, value: { v: 1 } }));
    assert.match(warnings.join("\n"), /version 999.*newer tokensmith/);
  });

  test("the lease lives in the row, on the database clock, and no transaction stays open while the updater runs", async () => {
    const schema = freshSchema();
    await using(open({ schema }), async (store) => {
      await store.update("k", async () => {
        const { rows } = await admin.query(
          `SELECT lease_holder, lease_owner, lease_expires > clock_timestamp() AS live, lease_expires <= clock_timestamp() + interval '2 seconds' AS bounded
           FROM ${tablesOf(schema).states} WHERE key = 'k'`,
        );
        assert.equal(rows[0].lease_holder, "row lease test");
        assert.match(rows[0].lease_owner, /^\d+@.+\/[^/]*\.[0-9a-f]+$/);
        assert.equal(rows[0].live, true);
        assert.equal(rows[0].bounded, true);
        const open = await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'tokensmith' AND state LIKE 'idle in transaction%'`);
        assert.equal(open.rows[0].n, 0);
        return { v: 1 };
      }, { mode: "wait", leaseMs: 2_000, holder: "row lease test" });
      const { rows } = await admin.query(`SELECT generation, lease_owner, lease_expires FROM ${tablesOf(schema).states} WHERE key = 'k'`);
      assert.deepEqual(rows, [{ generation: "1", lease_owner: null, lease_expires: null }]);
    });
  });

  test("no column holds the stored value in plaintext", async () => {
    const schema = freshSchema();
    const secret = `refresh-${randomBytes(12).toString("hex")}`;
    await using(open({ schema }), (s) => s.update("k", () => ({ refresh_token: secret }), { mode: "wait" }).then(() => {}));
    const { rows } = await admin.query(`SELECT row_to_json(s)::text AS row FROM ${tablesOf(schema).states} s`);
    assert.equal(rows.length, 1);
    assert.ok(!rows[0].row.includes(secret) && !rows[0].row.includes(Buffer.from(secret).toString("base64")));
  });

  test("a corrupt record is moved to tokensmith_quarantine with its bytes, and the warning names the record and the table", async () => {
    const schema = freshSchema();
    const warnings: string[] = [];
    await using(open({ schema, onWarning: (m) => warnings.push(m) }), async (store) => {
      await store.update("k", () => ({ v: 1 }), { mode: "wait" });
      await corrupt(schema, "k");
      const damaged = (await admin.query(`SELECT data FROM ${tablesOf(schema).states} WHERE key = 'k'`)).rows[0].data;
      assert.equal(await store.get("k"), undefined);
      assert.equal(await store.get("k"), undefined);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], /"k" \(generation 1\).*tokensmith_quarantine \(id \d+\)/);
      const kept = await admin.query(`SELECT key, generation, data FROM ${tablesOf(schema).quarantine}`);
      assert.deepEqual(kept.rows, [{ key: "k", generation: "1", data: damaged }]);
    });
  });

  test("a record under an unknown key is a store_error and is left untouched", async () => {
    const schema = freshSchema();
    await using(open({ schema, key: randomBytes(32) }), (s) => s.update("k", () => ({ v: 1 }), { mode: "wait" }).then(() => {}));
    const before = (await admin.query(`SELECT data FROM ${tablesOf(schema).states}`)).rows;
    await using(open({ schema, key: randomBytes(32) }), async (store) => {
      await assert.rejects(store.get("k"), { code: "store_error" });
      await assert.rejects(store.update("k", () => ({ v: 2 }), { mode: "wait" }), { code: "store_error" });
    });
    assert.deepEqual((await admin.query(`SELECT data FROM ${tablesOf(schema).states}`)).rows, before);
    assert.equal((await admin.query(`SELECT count(*)::int AS n FROM ${tablesOf(schema).quarantine}`)).rows[0].n, 0);
  });

  test("after key rotation, records under an old key are read and rewritten under the new one", async () => {
    const schema = freshSchema();
    const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
    await using(open({ schema, key: oldKey }), (s) => s.update("k", () => ({ v: 1 }), { mode: "wait" }).then(() => {}));
    await using(open({ schema, key: newKey, oldKeys: [oldKey] }), async (s) => {
      assert.deepEqual(await s.get("k"), { generation: 1, value: { v: 1 } });
      await s.update("k", () => ({ v: 2 }), { mode: "wait" });
    });
    await using(open({ schema, key: newKey }), async (s) => assert.deepEqual(await s.get("k"), { generation: 2, value: { v: 2 } }));
  });

  test("an unreachable database is a store_error naming the server, never its password", async () => {
    const url = "postgres://someone:hunter2-secret@127.0.0.1:1/nowhere";
    await using(open({ url }), async (store) => {
      await assert.rejects(store.get("k"), (err: Error & { code: string }) => {
        assert.equal(err.code, "store_error");
        assert.match(err.message, /127\.0\.0\.1:1\/nowhere/);
        assert.ok(!err.message.includes("hunter2"));
        return true;
      });
    });
  });

  test("a database that does not exist is a store_error in Postgres's own words, with a hint about store.url", async () => {
    const missing = new globalThis.URL(URL);
    missing.pathname = `/tokensmith_no_such_db_${RUN}`;
    await using(open({ url: missing.href }), async (store) => {
      await assert.rejects(store.get("k"), (err: Error & { code: string; hint?: string }) => {
        assert.equal(err.code, "store_error");
        assert.match(err.message, /database "tokensmith_no_such_db_\w+" does not exist \(3D000\)/);
        assert.match(err.hint ?? "", /store\.url/);
        return true;
      });
    });
  });
});

testOutages("postgres", {
  startServer: startPrivatePostgres,
  open: (url) => open({ url, schema: "tokensmith" }),
  storeSection: (url) => ({ type: "postgres", url, schema: "tokensmith_library", key: sharedKey.toString("base64") }),
});

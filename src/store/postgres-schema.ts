import type { Pool, PoolClient } from "pg";

/**
 * The Postgres store's tables, created on first use by numbered migrations. Every process of a
 * fleet may start at once: migrations run in one short transaction under an advisory lock, so
 * exactly one applies each step and the others find it done. Steps are additive only (new
 * tables, columns with defaults), so during a rolling upgrade an older tokensmith keeps
 * working on a schema a newer one has migrated; it warns instead of refusing.
 */

/** `"name"` with embedded quotes doubled: schema names come from the config. */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** The table names inside the configured schema. */
export interface PostgresTables {
  states: string;
  quarantine: string;
  migrations: string;
}

export function tablesOf(schema: string): PostgresTables {
  const s = quoteIdent(schema);
  return { states: `${s}.tokensmith_states`, quarantine: `${s}.tokensmith_quarantine`, migrations: `${s}.tokensmith_migrations` };
}

export interface Migration {
  version: number;
  description: string;
  statements(tables: PostgresTables): string[];
}

/** Append only: a released step is never edited, a change is a new step. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "token states with their lease, and the quarantine",
    statements: (t) => [
      `CREATE TABLE ${t.states} (
        key text PRIMARY KEY,
        generation bigint NOT NULL DEFAULT 0,
        data text,
        lease_owner text,
        lease_holder text,
        lease_expires timestamptz,
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`,
      `COMMENT ON COLUMN ${t.states}.data IS 'sealed record (AES-256-GCM, tokensmith src/store/sealed.ts); NULL: not written yet, or quarantined'`,
      `CREATE TABLE ${t.quarantine} (
        id bigserial PRIMARY KEY,
        key text NOT NULL,
        generation bigint NOT NULL,
        data text NOT NULL,
        reason text NOT NULL,
        quarantined_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`,
    ],
  },
];

/** The newest version this build knows. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Undefined table: the schema has never been migrated. */
const UNDEFINED_TABLE = "42P01";

async function appliedVersion(db: Pool | PoolClient, tables: PostgresTables): Promise<number> {
  try {
    const { rows } = await db.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${tables.migrations}`);
    return rows[0]?.v ?? 0;
  } catch (err) {
    if ((err as { code?: string }).code === UNDEFINED_TABLE) return 0;
    throw err;
  }
}

export interface MigrateResult {
  /** Versions this call applied (empty when another process or an earlier run did). */
  applied: number[];
  /** The schema's version afterwards. */
  version: number;
}

/**
 * Brings `schema` up to SCHEMA_VERSION. The usual case — already migrated — is one query; the
 * rest happens in one transaction that holds nothing but DDL, never a token request.
 */
export async function migrate(pool: Pool, schema: string, onWarning: (message: string) => void): Promise<MigrateResult> {
  const tables = tablesOf(schema);
  const before = await appliedVersion(pool, tables);
  if (before >= SCHEMA_VERSION) {
    if (before > SCHEMA_VERSION) {
      onWarning(`postgres store: the schema ${schema} is at version ${before}, migrated by a newer tokensmith (this one knows ${SCHEMA_VERSION}); continuing, since migrations only add`);
    }
    return { applied: [], version: before };
  }
  const client = await pool.connect();
  let broken: unknown;
  try {
    await client.query("BEGIN");
    // One migrator per schema at a time, across the fleet; released at COMMIT or ROLLBACK.
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`tokensmith migrations ${schema}`]);
    const exists = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${tables.migrations} (
      version integer PRIMARY KEY,
      description text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT clock_timestamp()
    )`);
    const current = await appliedVersion(client, tables);
    const applied: number[] = [];
    for (const step of MIGRATIONS) {
      if (step.version <= current) continue;
      for (const sql of step.statements(tables)) await client.query(sql);
      await client.query(`INSERT INTO ${tables.migrations} (version, description) VALUES ($1, $2)`, [step.version, step.description]);
      applied.push(step.version);
    }
    await client.query("COMMIT");
    return { applied, version: Math.max(current, SCHEMA_VERSION) };
  } catch (err) {
    await client.query("ROLLBACK").catch((lost: unknown) => (broken = lost));
    throw err;
  } finally {
    // A connection that failed mid-transaction is discarded, not returned to the pool.
    client.release(broken instanceof Error ? broken : undefined);
  }
}

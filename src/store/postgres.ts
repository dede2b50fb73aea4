import type { Client, Pool, QueryResultRow } from "pg";
import { TokenSmithError } from "../errors.js";
import { idle, systemClock, type Clock } from "../clock.js";
import { importDriverPackage } from "./driver-package.js";
import { recordTag, type LeaseBackend, type LeaseTicket, type RawRecord } from "./backend.js";
import { createChannelWatch, type ChannelListener } from "./channel.js";
import { createStoreFromBackend } from "./engine.js";
import { TRANSIENT_ERRNO, describeServer, serverHint, type NetworkStoreOptions } from "./network.js";
import { migrate, tablesOf, type PostgresTables } from "./postgres-schema.js";
import type { Store } from "./types.js";

/**
 * The Postgres store (SPEC §6): a fleet shares one row per token state in
 * `<schema>.tokensmith_states`. The row carries the lease (owner, holder, expiry on the
 * database's clock) beside the sealed record, and every step is one autocommitted statement:
 * take the lease, renew it, write-and-release fenced by generation and owner, release. No
 * transaction or connection is held while the token request runs, so a slow authorization
 * server never pins a connection or a row lock. Waiters are woken by LISTEN/NOTIFY.
 * See docs/decisions.md, "Postgres and Redis stores".
 */

export interface PostgresStoreOptions extends NetworkStoreOptions {
  /** Schema of the tables (created if missing). Default `public`. */
  schema?: string;
}

export const DEFAULT_SCHEMA = "public";
/** Connections per process: an update needs one at a time, plus renewals and reads beside it. */
const POOL_MAX = 4;
/** An unreachable database fails fast: callers with a valid token are not kept waiting. */
const CONNECT_TIMEOUT_MS = 5_000;
/** Idle connections go after this, so a CLI process or a quiet service holds none. */
const IDLE_TIMEOUT_MS = 10_000;
/** No statement of ours takes more than milliseconds; one that hangs this long is an outage. */
const QUERY_TIMEOUT_MS = 10_000;
/** The LISTEN connection retries this often while the database is down. */
const LISTEN_RETRY_MS = 1_000;
/** Postgres identifiers are at most 63 bytes (NAMEDATALEN - 1). */
const MAX_IDENTIFIER_BYTES = 63;
/** SQLSTATE classes and codes that mean "the server went away or is starting": worth retrying. */
const TRANSIENT_SQLSTATE = /^(08|53|57P0[123]|40001|40P01)/;
const TRANSIENT_MESSAGE = /Connection terminated|connection timeout|timeout exceeded|Query read timeout|Client has encountered a connection error|not queryable/i;

/** Opens the store; the pool connects, and the tables are migrated, on first use. */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  if (!schema || Buffer.byteLength(schema) > MAX_IDENTIFIER_BYTES || schema.includes("\0")) {
    throw new TokenSmithError("config_invalid", `store.schema must be a Postgres identifier of 1 to ${MAX_IDENTIFIER_BYTES} bytes`, { field: "store.schema" });
  }
  const warn = options.onWarning ?? ((message: string) => process.emitWarning(message, "TokenSmithWarning"));
  const { default: pg } = await importDriverPackage(() => import("pg"), "pg", "postgres");
  const connection = { connectionString: options.url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: "tokensmith" };
  const pool = new pg.Pool({ ...connection, max: POOL_MAX, idleTimeoutMillis: IDLE_TIMEOUT_MS, query_timeout: QUERY_TIMEOUT_MS, allowExitOnIdle: true });
  // An idle connection dropped by a restarting server: the pool discards it and reconnects on demand.
  pool.on("error", () => {});
  const backend = postgresBackend(pool, () => new pg.Client(connection), { schema, where: describeServer(options.url), warn, clock: options.clock ?? systemClock });
  return createStoreFromBackend(backend, { ...options, onWarning: warn });
}

/**
 * What went wrong, in Postgres's words with its SQLSTATE: `database "x" does not exist
 * (3D000)`, `password authentication failed for user "etl" (28P01)`; a code alone says little.
 */
export function pgReason(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e?.message === "string" && e.message ? e.message : undefined;
  const code = typeof e?.code === "string" ? e.code : undefined;
  if (message && code) return message.includes(code) ? message : `${message} (${code})`;
  return message ?? code ?? String(err);
}

/** Every failure that a restart or a network blip explains. */
export function isTransientPgError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e?.code === "string" && (TRANSIENT_ERRNO.has(e.code) || TRANSIENT_SQLSTATE.test(e.code))) return true;
  return typeof e?.message === "string" && TRANSIENT_MESSAGE.test(e.message);
}

interface BackendContext {
  clock: Clock;
  schema: string;
  where: string;
  warn: (message: string) => void;
}

function postgresBackend(pool: Pool, newClient: () => Client, ctx: BackendContext): LeaseBackend {
  const t: PostgresTables = tablesOf(ctx.schema);
  // Channel names are identifiers: a hash keeps any schema name within limits and unquoted.
  const channel = `tokensmith_${recordTag(`channel ${ctx.schema}`).slice(0, 16)}`;
  let ready: Promise<unknown> | undefined;
  /** Migrations once per process; a failure (database down) is retried on the next call. */
  const query = async <R extends QueryResultRow = QueryResultRow>(sql: string, params: unknown[]) => {
    ready ??= migrate(pool, ctx.schema, ctx.warn).catch((err) => {
      ready = undefined;
      throw err;
    });
    await ready;
    return pool.query<R>(sql, params);
  };
  const lease = "clock_timestamp() + $3::float8 * interval '1 millisecond'";
  type Row = { generation: string; data: string | null };
  const raw = (row: Row): RawRecord => ({ generation: Number(row.generation), data: row.data });
  const changes = createChannelWatch((listener) => listen(newClient, channel, listener, ctx.clock));

  return {
    kind: "postgres",
    where: ctx.where,
    async read(key) {
      const { rows } = await query<Row>(`SELECT generation, data FROM ${t.states} WHERE key = $1`, [key]);
      return rows[0] && raw(rows[0]);
    },
    async acquire(key, ticket: LeaseTicket, leaseMs, deadOwner) {
      // Insert-or-take in one statement; the WHERE is checked on the locked, latest row.
      const taken = await query<Row>(
        `INSERT INTO ${t.states} AS s (key, lease_owner, lease_holder, lease_expires) VALUES ($1, $2, $4, ${lease})
         ON CONFLICT (key) DO UPDATE SET lease_owner = $2, lease_holder = $4, lease_expires = ${lease}
         WHERE s.lease_owner IS NULL OR s.lease_expires <= clock_timestamp() OR s.lease_owner = $2 OR s.lease_owner = $5
         RETURNING generation, data`,
        [key, ticket.owner, leaseMs, ticket.holder, deadOwner ?? null],
      );
      if (taken.rows[0]) return { acquired: true, record: raw(taken.rows[0]) };
      const { rows } = await query<{ holder: string | null; owner: string | null; left: number | null }>(
        `SELECT lease_holder AS holder, lease_owner AS owner, extract(epoch FROM lease_expires - clock_timestamp()) * 1000 AS left
         FROM ${t.states} WHERE key = $1 AND lease_owner IS NOT NULL`,
        [key],
      );
      const row = rows[0];
      return { acquired: false, holder: row?.holder ?? undefined, owner: row?.owner ?? undefined, expiresInMs: row ? Math.max(0, Number(row.left)) : 0 };
    },
    async renew(key, ticket, leaseMs) {
      const result = await query(
        `UPDATE ${t.states} SET lease_expires = ${lease} WHERE key = $1 AND lease_owner = $2 AND lease_expires > clock_timestamp()`,
        [key, ticket.owner, leaseMs],
      );
      return result.rowCount === 1;
    },
    async write(key, ticket, generation, data) {
      // Fenced by generation AND unexpired lease owner; writes, releases and notifies atomically.
      const result = await query(
        `WITH w AS (
           UPDATE ${t.states} SET generation = $3, data = $4, updated_at = clock_timestamp(),
             lease_owner = NULL, lease_holder = NULL, lease_expires = NULL
           WHERE key = $1 AND generation = $3::bigint - 1 AND lease_owner = $2 AND lease_expires > clock_timestamp()
           RETURNING key)
         SELECT pg_notify($5, $6) FROM w`,
        [key, ticket.owner, generation, data, channel, recordTag(key)],
      );
      return result.rowCount === 1;
    },
    async release(key, ticket) {
      await query(
        `WITH r AS (
           UPDATE ${t.states} SET lease_owner = NULL, lease_holder = NULL, lease_expires = NULL WHERE key = $1 AND lease_owner = $2 RETURNING key)
         SELECT pg_notify($3, $4) FROM r`,
        [key, ticket.owner, channel, recordTag(key)],
      );
    },
    async quarantine(key, record, reason) {
      // Moves the data to the quarantine table and keeps the generation, in one statement.
      const { rows } = await query<{ id: string }>(
        `WITH moved AS (
           UPDATE ${t.states} SET data = NULL, updated_at = clock_timestamp() WHERE key = $1 AND generation = $2 AND data = $3 RETURNING key, generation)
         INSERT INTO ${t.quarantine} (key, generation, data, reason) SELECT key, generation, $3, $4 FROM moved RETURNING id`,
        [key, record.generation, record.data, reason],
      );
      return rows[0] ? `${ctx.schema}.tokensmith_quarantine (id ${rows[0].id})` : undefined;
    },
    watch: changes.watch,
    isTransient: isTransientPgError,
    reason: pgReason,
    hint: serverHint("postgres", ctx.where),
    async close() {
      await changes.close();
      await pool.end();
    },
  };
}

/** A dedicated LISTEN connection that reconnects by itself; the returned function stops it. */
function listen(newClient: () => Client, channel: string, listener: ChannelListener, clock: Clock): () => Promise<void> {
  let client: Client | undefined;
  const closed = new AbortController();
  const retry = async () => {
    await idle(clock, LISTEN_RETRY_MS, { signal: closed.signal, keepAlive: false });
    if (!closed.signal.aborted) await connect();
  };
  const connect = async () => {
    const c = newClient();
    c.on("error", () => {}); // "end" follows, and reconnects
    c.on("notification", (msg) => msg.channel === channel && msg.payload && listener.onChange(msg.payload));
    c.on("end", () => {
      if (client !== c) return;
      client = undefined;
      void retry();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
    } catch {
      await c.end().catch(() => {});
      return void retry();
    }
    if (closed.signal.aborted) return void (await c.end().catch(() => {}));
    client = c;
    listener.onReset();
  };
  void connect();
  return async () => {
    closed.abort();
    const c = client;
    client = undefined;
    await c?.end().catch(() => {});
  };
}

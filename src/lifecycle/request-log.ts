import { TokenSmithError, toTokenSmithError } from "../errors.js";
import type { ConnectionHandle } from "./handle.js";
import { HISTORY_LIMIT, readHistory, type HistoryEntry } from "./history.js";

/**
 * A connection's recent token requests (`tokensmith log`, `GET /v1/connections/NAME/log`): the
 * history kept in its token state, newest first. Connections that share the state share the
 * history; each entry names the connection that asked. Needs no secret of the connection.
 */

/** One token request (or a removal of the state). Never a secret: codes, not descriptions. */
export interface TokenRequestEntry {
  /** When the request was sent (or the state removed). */
  at: Date;
  /** The connection that asked (connections sharing a state share their log). */
  connection: string;
  /** The grant sent (`refresh_token`, `client_credentials`, ...); null for a removal. */
  grant: string | null;
  /** `ok`, `error`, or `removed` (logout, revoke, export as a move: see `reason`). */
  result: "ok" | "error" | "removed";
  /** How long the request took, in ms; null for a removal. */
  durationMs: number | null;
  /** tokensmith's error code (`oauth_error`, `timeout`, `network_error`, ...) of a failed request; `aborted` when it was cut short (every caller left). */
  code: string | null;
  /** The OAuth `error` the server answered (`invalid_grant`, ...), if any. */
  error: string | null;
  /** The HTTP status of a failed answer, if any. */
  status: number | null;
  /** The process that asked, `pid@host`. */
  process: string;
  /** Why the state was removed: `logout`, `revoked`, `moved`; null for a request. */
  reason: "logout" | "revoked" | "moved" | null;
}

/** What `connection.history()` returns. */
export interface TokenRequestLog {
  connection: string;
  /** Other connections with the same token state: their requests are in `entries` too. */
  sharedWith: string[];
  /** Newest first. */
  entries: TokenRequestEntry[];
}

/** What `connection.history()` may be told. */
export interface HistoryOptions {
  /** At most this many entries, newest first (1 to 50; default all kept, 50). */
  limit?: number;
}

/** A limit from a user (CLI `--limit`, gateway `?limit=`): a whole number from 1 to 50. */
export function parseLimit(value: string | number | undefined, field: string, connection?: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > HISTORY_LIMIT) {
    throw new TokenSmithError("usage_error", `${field} must be a whole number from 1 to ${HISTORY_LIMIT} (got "${String(value).slice(0, 20)}")`, {
      connection,
      hint: `tokensmith keeps the last ${HISTORY_LIMIT} token requests of each connection`,
    });
  }
  return n;
}

/** @internal The log of `connection`'s token state, read from the store. */
export async function requestLog(connection: ConnectionHandle, options: HistoryOptions = {}): Promise<TokenRequestLog> {
  try {
    const limit = parseLimit(options.limit, "limit") ?? HISTORY_LIMIT;
    const { manager, ctx } = await connection.stateSetup();
    // `cache: none` stores nothing, its requests included.
    const state = ctx.cache === "none" ? undefined : await manager.reload(ctx);
    const entries = readHistory(state?.history).slice(-limit).reverse().map(toEntry);
    return { connection: connection.name, sharedWith: connection.runtime.sharing(connection.name), entries };
  } catch (err) {
    throw toTokenSmithError(err, connection.name);
  }
}

function toEntry(e: HistoryEntry): TokenRequestEntry {
  return {
    at: new Date(e.at),
    connection: e.connection,
    grant: e.grant ?? null,
    result: e.result,
    durationMs: e.ms ?? null,
    code: e.code ?? null,
    error: e.error ?? null,
    status: e.status ?? null,
    process: e.process,
    reason: e.reason ?? null,
  };
}

/** The `tokensmith log --json` and `GET /v1/connections/NAME/log` document: snake_case, docs/schemas/log.schema.json. */
export function requestLogJson(log: TokenRequestLog) {
  return {
    connection: log.connection,
    shared_with: log.sharedWith,
    entries: log.entries.map((e) => ({
      at: e.at.toISOString(),
      connection: e.connection,
      grant: e.grant,
      result: e.result,
      duration_ms: e.durationMs,
      code: e.code,
      error: e.error,
      status: e.status,
      process: e.process,
      reason: e.reason,
    })),
  };
}

import type { Connection } from "../lifecycle/connection.js";
import { internals } from "../lifecycle/handle.js";
import { statusJson, type StatusJson } from "../lifecycle/documents.js";
import { canRevoke } from "../lifecycle/revoke.js";
import type { TokenRequestLog } from "../lifecycle/request-log.js";
import type { ConnectionStatus } from "../lifecycle/status.js";
import { tokenJson, type TokenJson } from "../lifecycle/token-json.js";
import { unknownConnection } from "../lifecycle/runtime.js";
import type { TokenSmith } from "../tokensmith.js";
import { TokenSmithError, toTokenSmithError } from "../errors.js";
import { mayUse, type Principal } from "./auth.js";
import { browserAuthorization } from "./authorize-check.js";
import { GatewayError, RoutedError } from "./errors.js";
import type { GatewayMetrics } from "./metrics.js";

/**
 * What the `/v1` routes do, with the library only: `status`, `token`, `test`, `revoke`. Each
 * function takes the caller's principal and refuses connections it may not use (403), and
 * unknown ones (404).
 */

/** What the API functions need: the library instance, the counters, the clock. */
export interface ApiDeps {
  ts: TokenSmith;
  metrics: GatewayMetrics;
  /** The gateway's own callback URL (for the dashboard's "authorize" availability). */
  callbackUrl: string;
  now: () => number;
}

/** `GET /v1/connections` entries: `tokensmith status --json` plus what the dashboard needs; snake_case. */
export interface GatewayStatusJson extends StatusJson {
  authorize: { available: true; redirect_uri: string } | { available: false; reason: string; manual: string | null };
  /** True when the connection has a revocation endpoint (configured, preset or discovered): the dashboard's Revoke button. */
  can_revoke: boolean;
  /** What this gateway answered for the connection since it started. */
  served: {
    tokens: number;
    cache_hits: number;
    waits: number;
    errors: number;
    proxy: { requests: number; errors: number; bytes_up: number; bytes_down: number; recoveries: number };
  };
}

/** The connection, if the principal may use it; 403 otherwise (even for unknown names, so a limited key learns nothing), 404 when unknown. */
export function connectionFor(deps: ApiDeps, principal: Principal, name: string): Connection {
  if (!mayUse(principal, name)) {
    throw new GatewayError(403, "forbidden", `this key may not use connection "${name}"`, "use a key configured for this connection in gateway.api_keys", name);
  }
  const names = deps.ts.connectionNames();
  // The library's own error (`config_invalid`, as the CLI reports it), answered 404.
  if (!names.includes(name)) throw new RoutedError(404, unknownConnection(name, names));
  return deps.ts.connection(name);
}

/** A status with the gateway's additions: the one builder of the gateway's status document. */
async function withAdditions(deps: ApiDeps, status: ConnectionStatus): Promise<GatewayStatusJson> {
  const connection = deps.ts.connection(status.name);
  const [authorize, revocable] = await Promise.all([browserAuthorization(connection, deps.callbackUrl), canRevoke(internals(connection))]);
  const served = deps.metrics.served(connection.name);
  const { proxy } = served;
  return {
    ...statusJson(status),
    authorize: authorize.available ? { available: true, redirect_uri: authorize.redirectUri } : { available: false, reason: authorize.reason, manual: authorize.manual ?? null },
    can_revoke: revocable,
    served: {
      tokens: served.tokens,
      cache_hits: served.cacheHits,
      waits: served.waits,
      errors: served.errors,
      proxy: { requests: proxy.requests, errors: proxy.errors, bytes_up: proxy.bytesUp, bytes_down: proxy.bytesDown, recoveries: proxy.recoveries },
    },
  };
}

/**
 * One connection's status with the gateway's additions, under `ts.statuses()`'s policy: a
 * connection that does not resolve is a broken row; a store that cannot be read is an error.
 */
export async function statusOf(deps: ApiDeps, connection: Connection, principal: Principal): Promise<GatewayStatusJson> {
  const [status] = await deps.ts.statuses([connection.name]);
  return withAdditions(deps, seenBy(status!, principal));
}

/** The status of every connection the principal may see, in config order (for `/metrics` too). */
export async function visibleStatuses(deps: ApiDeps, principal: Principal): Promise<ConnectionStatus[]> {
  const statuses = await deps.ts.statuses(deps.ts.connectionNames().filter((name) => mayUse(principal, name)));
  return statuses.map((status) => seenBy(status, principal));
}

/** A status as a principal sees it: the connections sharing its state that it may not use go unnamed (a limited key learns nothing of them). */
function seenBy(status: ConnectionStatus, principal: Principal): ConnectionStatus {
  return principal.connections ? { ...status, sharedWith: status.sharedWith.filter((name) => mayUse(principal, name)) } : status;
}

/** A request log as a principal sees it: other connections' entries stay (they are the shared state's requests), their names do not. */
export function logSeenBy(log: TokenRequestLog, principal: Principal): TokenRequestLog {
  if (!principal.connections) return log;
  return {
    ...log,
    sharedWith: log.sharedWith.filter((name) => mayUse(principal, name)),
    entries: log.entries.map((entry) => (mayUse(principal, entry.connection) ? entry : { ...entry, connection: "(another connection)" })),
  };
}

/** Every connection the principal may see, in config order. */
export async function listStatuses(deps: ApiDeps, principal: Principal): Promise<GatewayStatusJson[]> {
  const statuses = await visibleStatuses(deps, principal);
  return Promise.all(statuses.map((status) => withAdditions(deps, status)));
}

/** A `min_ttl` query value: non-negative seconds. */
export function parseMinTtl(value: string | null): number | undefined {
  if (value === null || value === "") return undefined;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new TokenSmithError("usage_error", `min_ttl must be a number of seconds (got "${value.slice(0, 20)}")`, { hint: "e.g. ?min_ttl=300" });
  }
  return seconds;
}

/**
 * The token, counted: a cache hit when it is the token this process already held, a wait
 * when the caller had to wait for a newer one (from the store or the authorization server).
 */
export async function tokenOf(deps: ApiDeps, connection: Connection, options: { minTtl?: number; forceRefresh?: boolean }): Promise<TokenJson> {
  const { metrics } = deps;
  const labels = { connection: connection.name };
  try {
    const held = await heldToken(connection);
    const info = await connection.token(options);
    metrics.tokenRequests.add({ ...labels, result: "ok" });
    if (held !== undefined && held === info.accessToken) metrics.cacheHits.add(labels);
    else metrics.waits.add(labels);
    return tokenJson(connection.name, info, deps.now());
  } catch (err) {
    metrics.tokenRequests.add({ ...labels, result: toTokenSmithError(err).code });
    throw err;
  }
}

/** The access token this process holds in memory for the connection, without any I/O. */
async function heldToken(connection: Connection): Promise<string | undefined> {
  const handle = internals(connection);
  await handle.setup();
  return handle.heldToken();
}

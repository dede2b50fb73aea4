import { isUserGrant } from "../config/grants.js";
import { TokenSmithError } from "../errors.js";
import { UnreadableRecordError } from "../store/sealed.js";
import type { ConnectionHandle } from "./handle.js";
import type { Health } from "./health-types.js";
import { health, UNREADABLE } from "./health.js";
import { stateId } from "./runtime.js";
import { describeState, live, otherCredentials } from "./state.js";

/** What `tokensmith status` shows per connection. Never a secret. */
export interface ConnectionStatus {
  name: string;
  grant: string;
  provider: string | null;
  /** The connection's health: the one model of status, the dashboard and /metrics; snake_case keys. */
  health: Health;
  /** The pinned or detected client authentication (`client_secret_basic`, `private_key_jwt`, ...); null when unknown. */
  clientAuth: string | null;
  /** The command that logs this connection in (for a `login_required` hint); null when broken. */
  loginCommand: string | null;
  /** The raw token state, kept for compatibility; `health` is what to show. `unreadable`: the stored state cannot be decrypted with the store's keys (a lost or replaced key, §2.15). */
  state: "valid" | "expiring" | "expired" | "authorization required" | "none" | "unreadable";
  expiresAt: Date | null;
  expiresIn: number | null;
  scopes: string[];
  hasRefreshToken: boolean;
  lastRefresh: Date | null;
  tokenRequests: number;
  /** Other connections that share this token state (same fingerprint, §2.1). */
  sharedWith: string[];
  /** A short id of the token state, equal for connections that share it. */
  stateId: string;
  /** Why the state is what it is, when it is a dead end or an error is remembered. */
  problem: string | null;
  /** When the local state was removed on purpose: logged out, revoked, or moved away by export. */
  removed: { reason: "logout" | "revoked" | "moved"; at: Date } | null;
  /** `client_auth: auto`: the method found and remembered for the token URL, and the config line that pins it (the `client_auth` setting). */
  detectedClientAuth?: { method: string; pin: string } | null;
  /** Set when the connection's settings could not be resolved (not for an `unreadable` state: that is `problem`). */
  error?: { code: string; message: string; hint: string | null };
}

/** @internal A connection's status; `store_error` and the like are thrown, never shown as a state (§2.9). */
export async function connectionStatus(connection: ConnectionHandle): Promise<ConnectionStatus> {
  const { runtime } = connection;
  const { conn, fingerprint, manager, ctx, authChoice } = await connection.setup();
  // Only a grant a person logs in for has a login to suggest.
  const loginCommand = isUserGrant(conn.grant) ? ctx.loginCommand : null;
  let state;
  try {
    state = ctx.cache === "none" ? manager.peek() : await manager.reload(ctx);
  } catch (err) {
    if (!(err instanceof UnreadableRecordError)) throw err;
    return { ...brokenStatus(connection.name, err), grant: conn.grantType ?? conn.grant, provider: conn.provider ?? null, clientAuth: conn.clientAuth ?? null, loginCommand, scopes: conn.scopes, sharedWith: runtime.sharing(connection.name), stateId: stateId(fingerprint) };
  }
  const now = runtime.clock.now();
  const current = live(state);
  const expiresAt = current?.accessToken && typeof current.expiresAt === "number" ? current.expiresAt : null;
  let problem: string | null = null;
  if (current?.reauth) problem = `refresh refused (${current.reauth.error ?? "invalid_grant"}): run \`${ctx.loginCommand}\``;
  else if (current?.lastError && current.lastError.until > now && !otherCredentials(current.lastError, ctx)) problem = current.lastError.message;
  return {
    name: connection.name,
    grant: conn.grantType ?? conn.grant,
    provider: conn.provider ?? null,
    health: health(state, { grant: conn.grant, grantType: conn.grantType, hasSeed: !!conn.refreshToken, refreshMarginMs: conn.refreshMarginMs, credentialsHash: ctx.credentialsHash }, now),
    clientAuth: conn.clientAuth ?? null,
    loginCommand,
    state: describeState(state, now, conn.refreshMarginMs),
    expiresAt: expiresAt === null ? null : new Date(expiresAt),
    expiresIn: expiresAt === null ? null : Math.max(0, Math.floor((expiresAt - now) / 1000)),
    scopes: current?.scope ? current.scope.split(" ").filter(Boolean) : conn.scopes,
    hasRefreshToken: !!current?.refreshToken,
    lastRefresh: current?.lastRefreshAt ? new Date(current.lastRefreshAt) : null,
    tokenRequests: (state?.tokenRequests ?? 0) + manager.uncachedTokenRequests,
    sharedWith: runtime.sharing(connection.name),
    stateId: stateId(fingerprint),
    problem,
    removed: state?.tombstone ? { reason: state.tombstone.reason, at: new Date(state.tombstone.at) } : null,
    ...(authChoice ? { detectedClientAuth: await authChoice.found(conn.tokenUrl) } : {}),
  };
}

/**
 * A status line for a connection whose settings don't resolve (e.g. a missing variable), or
 * whose stored state cannot be decrypted (`unreadable`, each on its own row: §2.15). One
 * policy for the CLI, the library and the gateway.
 * @internal
 */
export function brokenStatus(name: string, err: unknown): ConnectionStatus {
  const e = err instanceof TokenSmithError ? err : new TokenSmithError("unexpected", String(err));
  const unreadable = e instanceof UnreadableRecordError;
  const broken: Health = {
    status: "failing",
    summary: e.message,
    renews_by_itself: false,
    expires_at: null,
    expires_in: null,
    last_error: { code: e.code, error: null, message: e.message, hint: e.hint ?? null, at: new Date().toISOString(), retry_at: null },
    removed: null,
  };
  return {
    name,
    health: unreadable ? health(UNREADABLE, { grant: "client_credentials" }, 0) : broken,
    clientAuth: null,
    loginCommand: null,
    grant: "",
    provider: null,
    state: unreadable ? "unreadable" : "none",
    expiresAt: null,
    expiresIn: null,
    scopes: [],
    hasRefreshToken: false,
    lastRefresh: null,
    tokenRequests: 0,
    sharedWith: [],
    stateId: "",
    problem: unreadable ? `${e.message}. Restore the key that wrote it (store.key, store.old_keys), or give it up: tokensmith logout ${name} --discard-unreadable` : e.message,
    removed: null,
    ...(unreadable ? {} : { error: { code: e.code, message: e.message, hint: e.hint ?? null } }),
  };
}

/**
 * Every named connection's status, in the given order (`ts.statuses()`; the CLI's `status` and
 * the gateway's list): a connection whose settings don't resolve is a broken row of its own;
 * any other failure (the store cannot be read) fails the whole listing, since showing that as
 * "none" would say there is no login when there may well be one (§2.9).
 * @internal
 */
export async function connectionStatuses(connections: ConnectionHandle[]): Promise<ConnectionStatus[]> {
  return Promise.all(
    connections.map(async (connection) => {
      try {
        return await connectionStatus(connection);
      } catch (err) {
        if (err instanceof TokenSmithError && err.code === "config_invalid") return brokenStatus(connection.name, err);
        throw err;
      }
    }),
  );
}

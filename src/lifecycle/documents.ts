import type { Health } from "./health-types.js";
import type { RevokeResult } from "./revoke.js";
import type { ConnectionStatus } from "./status.js";

/**
 * The JSON documents of the library's results, as `--json` and the gateway print them (SPEC
 * §3): snake_case keys, the `connection` named, one builder per document so the CLI and the
 * gateway cannot drift apart. The library's own API stays camelCase (§4). Each document has a
 * JSON Schema in docs/schemas/ (status, connections, revoke); tests check real output against it.
 */

/** `tokensmith status --json` (one entry), `GET /v1/connections` (without the gateway's additions). */
export interface StatusJson {
  connection: string;
  /** The same as `connection`: the key status rows had before every document named its connection. */
  name: string;
  grant: string;
  provider: string | null;
  health: Health;
  client_auth: string | null;
  login_command: string | null;
  state: ConnectionStatus["state"];
  /** ISO 8601, like every time in `health`. */
  expires_at: string | null;
  expires_in: number | null;
  scopes: string[];
  has_refresh_token: boolean;
  last_refresh: string | null;
  token_requests: number;
  shared_with: string[];
  state_id: string;
  problem: string | null;
  removed: { reason: "logout" | "revoked" | "moved"; at: string } | null;
  /** `client_auth: auto`: the method found and the config line that pins it; null otherwise. */
  detected_client_auth: { method: string; pin: string } | null;
  /** Set when the connection's settings could not be resolved; null otherwise. */
  error: { code: string; message: string; hint: string | null } | null;
}

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

/** The one builder of the status document. */
export function statusJson(s: ConnectionStatus): StatusJson {
  return {
    connection: s.name,
    name: s.name,
    grant: s.grant,
    provider: s.provider,
    health: s.health,
    client_auth: s.clientAuth,
    login_command: s.loginCommand,
    state: s.state,
    expires_at: iso(s.expiresAt),
    expires_in: s.expiresIn,
    scopes: s.scopes,
    has_refresh_token: s.hasRefreshToken,
    last_refresh: iso(s.lastRefresh),
    token_requests: s.tokenRequests,
    shared_with: s.sharedWith,
    state_id: s.stateId,
    problem: s.problem,
    removed: s.removed ? { reason: s.removed.reason, at: s.removed.at.toISOString() } : null,
    detected_client_auth: s.detectedClientAuth ?? null,
    error: s.error ?? null,
  };
}

/** `tokensmith revoke --json`, `POST /v1/connections/NAME/revoke`. */
export interface RevokeJson {
  connection: string;
  revoked: RevokeResult["revoked"];
  warnings: string[];
  dropped: boolean;
}

/** The one builder of the revoke document. */
export function revokeJson(connection: string, result: RevokeResult): RevokeJson {
  return { connection, revoked: result.revoked, warnings: result.warnings, dropped: result.dropped };
}

/** One entry of `tokensmith connections --json`: what the config says, no secrets, no store. */
export interface ConnectionJson {
  connection: string;
  /** The same as `connection` (see StatusJson). */
  name: string;
  grant: string;
  provider: string | null;
  token_url: string | null;
}

/** The one builder of a `connections` entry, from `Connection.describe()`. */
export function connectionJson(d: { name: string; grant: string; provider: string | null; tokenUrl: string | null }): ConnectionJson {
  return { connection: d.name, name: d.name, grant: d.grant, provider: d.provider, token_url: d.tokenUrl };
}

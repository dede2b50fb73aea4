import type { Clock } from "../clock.js";
import type { ResolvedConnection } from "../config/types.js";
import { issuerMatches } from "../providers/discovery.js";
import type { Endpoints, FetchLike, GrantRequest, OAuthClient, TokenSet } from "../protocol/types.js";

/** What every interactive flow runs with: the connection, its endpoints, I/O and time. */
export interface FlowContext {
  conn: ResolvedConnection;
  /** Configured and, with an issuer, discovered (jwks_uri, RFC 9207 support). */
  endpoints: Endpoints;
  fetch: FetchLike;
  clock: Clock;
  /** How long the person has to finish (SPEC §3 `--timeout`). */
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * Sends a token request the way the connection's other token requests go (with what
   * `client_auth: auto` found); without it, the connection's own client is used as configured.
   */
  requestToken?: TokenRequest;
  /**
   * Runs a request with the client authentication the connection's other requests use (what
   * `client_auth: auto` found, trying the others in order when none is known yet); without it,
   * the connection's own client as configured.
   */
  withClient?: ClientRunner;
}

/** Runs `send` with the client to authenticate as (see `FlowContext.withClient`). */
export type ClientRunner = <T>(send: (client: OAuthClient) => Promise<T>) => Promise<T>;

/** A token request made for a flow (the code exchange). */
export type TokenRequest = (grant: GrantRequest, signal?: AbortSignal) => Promise<{ tokens: TokenSet; sentAt: number }>;

/** A flow's result: the token response, when its request was sent (§2.10), and how many token requests it took. */
export interface ObtainedTokens {
  tokens: TokenSet;
  sentAt: number;
  requests: number;
}

/**
 * The issuer an authorization response (`iss`, RFC 9207) and an ID token must name: the
 * discovered or configured issuer, or the preset's template (Microsoft's `{tenantid}`).
 * With none known, any issuer passes: there is nothing to compare with.
 */
export function expectedIssuer(conn: ResolvedConnection, endpoints: Endpoints): { issuer?: string; isIssuer(iss: string): boolean } {
  const issuer = endpoints.issuer ?? conn.issuer;
  const withIssuer: ResolvedConnection = { ...conn, issuer };
  return { issuer: issuer ?? conn.issuerTemplate, isIssuer: (iss) => issuerMatches(withIssuer, iss) };
}

/**
 * The values the protocol layer speaks in. It knows nothing of stores or caching: these are
 * plain data built from a `ResolvedConnection` and parsed from server responses.
 */

/** What a token endpoint gave us, normalized (RFC 6749 §5.1). */
export interface TokenSet {
  accessToken: string;
  /** `Bearer` whatever case the server used (GitHub sends `bearer`); other types kept as sent. */
  tokenType: string;
  /**
   * Lifetime from `expires_in`, ms. Counts from when the request was *sent* (`sentAt`), which
   * is what makes it immune to clock skew; prefer it over `expiresAtMs` when both are present.
   */
  expiresInMs?: number;
  /**
   * How coarse `expiresInMs` is: 1000 when `expires_in` was a whole number of seconds, so the
   * server's clock (floored to the second) may end the token up to that much sooner (SPEC §2.10).
   */
  resolutionMs?: number;
  /** Absolute expiry from an `expires_at` field (Strava), epoch ms. */
  expiresAtMs?: number;
  refreshToken?: string;
  /** As the server sent it; undefined when the response had no scope (callers fall back to the requested scopes). */
  scope?: string;
  idToken?: string;
  /** Other non-secret response fields (Salesforce `instance_url`, Strava `athlete`); never a token. */
  extra: Record<string, unknown>;
}

/**
 * Which token request to make. The grant's own parameters travel here; everything else
 * (client, scopes, extra parameters) comes from the connection.
 */
export type GrantRequest =
  | { kind: "client_credentials" }
  | { kind: "password" }
  | { kind: "jwt_bearer" }
  /** RFC 8693: the subject (and actor) tokens are filled in by the caller when the request is made. */
  | { kind: "token_exchange"; subjectToken?: string; actorToken?: string }
  | { kind: "refresh_token"; refreshToken: string }
  | { kind: "authorization_code"; code: string; redirectUri: string; codeVerifier?: string }
  | { kind: "device_code"; deviceCode: string }
  /** The connection's `grantType` (e.g. fb_exchange_token) with its `tokenParams`. */
  | { kind: "custom" };

/** Where the authorization server lives: configured, discovered (RFC 8414 / OIDC), or both merged. */
export interface Endpoints {
  issuer?: string;
  tokenUrl?: string;
  authorizationUrl?: string;
  revocationUrl?: string;
  introspectionUrl?: string;
  deviceAuthorizationUrl?: string;
  userinfoUrl?: string;
  /** For ID token validation at login. */
  jwksUri?: string;
  /** RFC 9207: when true, an authorization response without `iss` must be refused. */
  authorizationResponseIssParameterSupported?: boolean;
  codeChallengeMethodsSupported?: string[];
}

/** A request ready to send: the protocol builders' output, the sender's input. */
export interface PreparedRequest {
  url: string;
  method: "POST";
  headers: Record<string, string>;
  body: string;
}

/** What the sender accepts: a prepared POST, or a GET (discovery metadata). */
export interface HttpRequest {
  url: string;
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
}

/** A response read in full: the processors' input, so they stay pure and testable offline. */
export interface ReceivedResponse {
  status: number;
  headers: Headers;
  body: string;
  /** The URL the request went to, named in every error. */
  url: string;
}

/** A `fetch`-compatible function, injected so tests and adapters choose the transport. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/**
 * I/O and time for the functions that talk to a server. `timeoutMs` defaults to the
 * connection's `timeout`; the lifecycle passes less when a lease has less time left (SPEC §2.5).
 */
export interface ProtocolDeps {
  fetch: FetchLike;
  now: () => number;
  signal?: AbortSignal;
  timeoutMs?: number;
}

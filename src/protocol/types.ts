/**
 * The values the protocol layer speaks in. It knows nothing of stores, caching or the config:
 * a request takes a client (`OAuthClient`, built once per connection by config/protocol-client.ts),
 * the endpoints, the grant and I/O; responses are parsed into plain data.
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
 * (client, scopes, extra parameters) comes from the client.
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

/** Request parameters; an array sends the name once per value (RFC 8707 `resource`). */
export type Params = Record<string, string | string[] | undefined>;

/** What client authentication writes into: a request's body parameters and headers. */
export interface AuthTarget {
  params: Params;
  headers: Record<string, string>;
}

/** Where and when a request is made: assertions are addressed to the endpoints and dated by `now`. */
export interface AuthContext {
  endpoints: Endpoints;
  /** Epoch ms, from the injected clock. */
  now: number;
}

/**
 * Client authentication as a value (oauth4webapi's `ClientSecretBasic(secret)`): applies itself
 * to a request at the token, revocation, introspection and device authorization endpoints
 * (RFC 6749 §2.3, RFC 7523 §2.2). Made by `clientSecretBasic`, `clientSecretPost`,
 * `privateKeyJwt`, `clientSecretJwt` and `none` (client-auth.ts).
 */
export type ClientAuth = (target: AuthTarget, context: AuthContext) => void | Promise<void>;

/** How every request to the authorization server looks, beyond the grant and the client authentication. */
export interface RequestOptions {
  scopes: string[];
  /** Joins `scopes` into one parameter (space per RFC 6749 §3.3; some providers want a comma). */
  scopeSeparator: string;
  audience?: string;
  resource?: string | string[];
  /** Extra parameters on every token request; `refreshParams` on refreshes only. */
  tokenParams: Record<string, string>;
  refreshParams: Record<string, string>;
  /** Extra headers on every request (never Accept, never over client authentication). */
  headers: Record<string, string>;
  /** The token request's body: form-encoded (RFC 6749) or JSON (a few providers). */
  body: "form" | "json";
  timeoutMs: number;
  /** Plain http to a non-loopback host is accepted (SPEC §2.13). */
  allowInsecureHttp: boolean;
}

/** The grants' own inputs that belong to the client rather than to one request. */
export interface GrantSettings {
  /** The password grant's resource owner. */
  username?: string;
  password?: string;
  /** A custom `grant_type` (e.g. fb_exchange_token), sent with `tokenParams`. */
  grantType?: string;
  /** Signs the `jwt_bearer` grant's assertion (RFC 7523 §2.1); see `jwtBearerAssertion`. */
  assertion?: (context: AuthContext) => Promise<string>;
  /** The scope travels inside the assertion (Google service accounts): no `scope` form parameter. */
  scopeInAssertion?: boolean;
  /** RFC 8693 token types; the tokens themselves come with each request (`GrantRequest`). */
  tokenExchange?: { subjectType?: string; actorType?: string; requestedType?: string };
}

/** The JWTs tokensmith signs (SPEC §1 `assertion`): claims, lifetime and signing choices. */
export interface AssertionSettings {
  iss?: string;
  sub?: string;
  aud?: string;
  kid?: string;
  alg?: string;
  /** Lifetime of a generated assertion, ms. */
  ttlMs: number;
  claims: Record<string, unknown>;
  /** `sha1`: the SHA-1 `x5t` goes into the header too, beside `x5t#S256` (with a `certificate`). */
  x5t?: "sha1";
  /** The grant's scope goes inside the `jwt_bearer` assertion, not in the form (Google service accounts). */
  scopeInAssertion?: boolean;
}

/** Where each standard token response field is found (JSONPath), for servers that nest them. */
export interface ResponseMapping {
  access_token?: string;
  refresh_token?: string;
  expires_in?: string;
  expires_at?: string;
  token_type?: string;
  scope?: string;
  id_token?: string;
  expires_at_unit?: "s" | "ms";
}

/**
 * The client the protocol layer acts for: who it is, how it authenticates, how its requests
 * look and how its responses are read. Built once per connection (config/protocol-client.ts).
 */
export interface OAuthClient {
  /** The connection's name: errors name it and its fields (`connections.NAME.token_url`). */
  name: string;
  clientId?: string;
  auth: ClientAuth;
  options: RequestOptions;
  grant: GrantSettings;
  /** The authorization request (RFC 6749 §4.1.1): extra parameters and PKCE. */
  authorization: { params: Record<string, string>; pkce: "S256" | "plain" | "off" };
  response: {
    mapping?: ResponseMapping;
    /** A token type other than Bearer is accepted (the connection says how to send it, SPEC §2.13). */
    anyTokenType: boolean;
  };
  /**
   * Told each short-lived secret a request is about to send (refresh token, code, verifier,
   * device code, a token being exchanged, revoked or introspected), right before it is sent,
   * and the device code as it arrives, so they can be registered for redaction. The protocol
   * itself registers nothing.
   */
  onSecret?: (value: string) => void;
}

/**
 * Connection settings after the preset is applied and `${env:}`/`${file:}` references are
 * resolved: what the protocol and lifecycle layers work with. Durations are in milliseconds
 * here (the config file takes seconds or "5m").
 */
import type { AssertionSettings, ResponseMapping } from "../protocol/types.js";
import type { GrantName } from "./grants.js";

export type { GrantName } from "./grants.js";
export { isUserGrant, USER_GRANTS } from "./grants.js";

export type ClientAuth = "auto" | "basic" | "post" | "none" | "private_key_jwt" | "client_secret_jwt" | "tls_client_auth" | "self_signed_tls_client_auth";

/** JSONPath mapping for non-standard token responses (SPEC §1 `response`): the protocol layer's own type. */
export type { ResponseMapping } from "../protocol/types.js";

export type { AssertionSettings } from "../protocol/types.js";

export interface ResolvedConnection {
  name: string;
  provider?: string;
  grant: GrantName;
  /** Custom grant type sent as `grant_type` instead of the grant's own (e.g. fb_exchange_token). */
  grantType?: string;
  account: string;

  issuer?: string;
  discoveryUrl?: string;
  /** Preset issuer template, e.g. "https://login.microsoftonline.com/{tenantid}/v2.0". */
  issuerTemplate?: string;
  authorizationUrl?: string;
  tokenUrl?: string;
  revocationUrl?: string;
  introspectionUrl?: string;
  deviceAuthorizationUrl?: string;
  userinfoUrl?: string;

  clientId?: string;
  clientSecret?: string;
  clientAuth: ClientAuth;
  /** The X.509 certificate (PEM) of `privateKey`: its thumbprints go into assertion headers (SPEC §1 `certificate`). */
  certificate?: string;
  basicEncoding: "form" | "raw";
  /** PEM or JWK (JSON text). */
  privateKey?: string;
  assertion: AssertionSettings;

  scopes: string[];
  scopeSeparator: string;
  audience?: string;
  resource?: string | string[];
  redirectUri?: string;
  pkce: "S256" | "plain" | "off";
  username?: string;
  password?: string;
  /** Token exchange (RFC 8693): the tokens given in exchange and their types. */
  tokenExchange?: TokenExchangeSettings;
  /** Seed refresh token (SPEC §2.9). */
  refreshToken?: string;

  authorizationParams: Record<string, string>;
  tokenParams: Record<string, string>;
  refreshParams: Record<string, string>;
  tokenHeaders: Record<string, string>;
  tokenBody: "form" | "json";
  response?: ResponseMapping;

  header: { name: string; value: string };
  /**
   * True when the config or its preset sets `header`: it then says how to send a token of a
   * type other than Bearer (SPEC §2.13); otherwise such a token is refused.
   */
  headerSet?: boolean;
  allowedOrigins?: string[];
  apiRetry?: { max: number; on: number[] };
  /** Explicit refresh margin, ms; undefined means the default rule (SPEC §1). */
  refreshMarginMs?: number;
  /** Lifetime assumed when the server gives none, ms, or "never". */
  defaultTtl: number | "never";
  cache: "shared" | "process" | "none";
  timeoutMs: number;
  allowInsecureHttp: boolean;
  testUrl?: string;
  /** The API's base URL (`base_url`): relative URLs in `call`, the gateway's proxy route (SPEC §5). */
  baseUrl?: string;
  vars: Record<string, string>;
  /** `none`, a proxy URL, or undefined for `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` (SPEC §1). */
  proxy?: string;
  /** Extra CAs and the mutual-TLS client certificate: absolute paths or PEM text (SPEC §1). */
  tls?: { caFile?: string; clientCert?: string; clientKey?: string };
}

/** A token given in a token exchange: a value (or reference), or another connection's access token. */
export type TokenSource = { value: string } | { connection: string };

/** RFC 8693 §2.1 request settings; token types default to the access token URN. */
export interface TokenExchangeSettings {
  subject: TokenSource;
  subjectType: string;
  actor?: TokenSource;
  actorType?: string;
  requestedType?: string;
}

/**
 * Every grant tokensmith speaks, as one table read by planning (lifecycle/decide), the
 * fingerprint (config/fingerprint), config derivation (config/derive), revoke and login. A new
 * grant is one row here plus its request body in protocol/token-request.ts.
 */

/** Grant names as the config file spells them. */
export const GRANT_NAMES = ["authorization_code", "device_code", "refresh_token", "client_credentials", "password", "jwt_bearer", "token_exchange"] as const;
export type GrantName = (typeof GRANT_NAMES)[number];

/** The request a grant makes by itself, without a person (a `GrantRequest` kind). */
export type OwnRequest = "client_credentials" | "password" | "jwt_bearer" | "token_exchange";

/** What identifies whose tokens a state holds, from the resolved connection. */
export type IdentityField = "account" | "username" | "assertion.sub" | "subject" | null;

export interface GrantSpec {
  /**
   * The token state family of the fingerprint: the user grants are one family, since a
   * login by code or device and a seeded refresh token are the same state.
   */
  family: string;
  /** Its tokens come from a person (`tokensmith login`); without a refresh token, a login is needed. */
  interactive: boolean;
  /** A refresh token it got renews it (and must be stored: `cache: none` is refused). */
  refreshable: boolean;
  /** The request it makes by itself; undefined for interactive grants. */
  own?: OwnRequest;
  /** Whose tokens: the field of the identity in the fingerprint. */
  identity: IdentityField;
  /**
   * Config fields it needs (derivation checks each and names the field), beyond client auth.
   * `assertion.sub` is not needed when a preset puts the scope in the assertion (a Google
   * service account acting as itself: the issuer is the identity).
   */
  requires: readonly string[];
  /** The login flow `tokensmith login` runs by default. */
  loginFlow?: "browser" | "device";
}

export const GRANT_TABLE: Record<GrantName, GrantSpec> = {
  authorization_code: { family: "user", interactive: true, refreshable: true, identity: "account", requires: [], loginFlow: "browser" },
  device_code: { family: "user", interactive: true, refreshable: true, identity: "account", requires: [], loginFlow: "device" },
  refresh_token: { family: "user", interactive: true, refreshable: true, identity: "account", requires: [], loginFlow: "browser" },
  client_credentials: { family: "client_credentials", interactive: false, refreshable: false, own: "client_credentials", identity: null, requires: [] },
  password: { family: "password", interactive: false, refreshable: true, own: "password", identity: "username", requires: ["username", "password"] },
  jwt_bearer: { family: "jwt_bearer", interactive: false, refreshable: false, own: "jwt_bearer", identity: "assertion.sub", requires: ["assertion.sub"] },
  token_exchange: { family: "token_exchange", interactive: false, refreshable: false, own: "token_exchange", identity: "subject", requires: ["subject_token"] },
};

/** The user grants (one token state family): tokens that come from a person. */
export function isUserGrant(grant: GrantName): boolean {
  return GRANT_TABLE[grant].interactive;
}

/** The user grants, in table order. */
export const USER_GRANTS: readonly GrantName[] = GRANT_NAMES.filter((name) => GRANT_TABLE[name].interactive);

/** The grant a connection uses (the `grant` default): a custom grant_type or no authorization URL is non-interactive. */
export function grantOf(m: { grant?: GrantName; grant_type?: string; authorization_url?: string }): GrantName {
  if (m.grant) return m.grant;
  // A custom grant_type is requested like client_credentials: non-interactively.
  if (m.grant_type) return "client_credentials";
  return m.authorization_url ? "authorization_code" : "client_credentials";
}

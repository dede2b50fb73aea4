import { timingSafeEqual } from "node:crypto";
import { importJWK, jwtVerify, type JWTPayload } from "jose";
import type { GrantContext, GrantHandler, Provider } from "oidc-provider";
import { DEMO_KEY_ALG, type DemoClients, assertionKeyFor } from "./clients.js";
import type { OidcModule } from "./load.js";

type Errors = OidcModule["errors"];

/**
 * Grant types the demo adds to oidc-provider with `registerGrantType` (which hands the
 * handler only the context; the client is already authenticated): the legacy password grant
 * (RFC 6749 §4.3) and the JWT bearer grant (RFC 7523 §2.1). Both answer with the provider's
 * own opaque tokens, stored like every other token, so the protected API, introspection,
 * revocation and refresh treat them the same.
 */

/** The one demo user (password grant and sign-in pages). */
export interface DemoUser {
  username: string;
  password: string;
}

/** Secret comparison that takes the same time whether the first or the last byte differs. */
export function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

interface IssueOptions {
  accountId: string;
  gty: string;
  scope?: string;
  withRefreshToken: boolean;
  /** RFC 8693 §2.2.1: a token exchange names the type of what it issued. */
  issuedTokenType?: string;
}

/** Makes a grant and its tokens, and writes the token response (RFC 6749 §5.1). */
async function issue(provider: Provider, ctx: GrantContext, { accountId, gty, scope, withRefreshToken, issuedTokenType }: IssueOptions): Promise<void> {
  const { client } = ctx.oidc;
  const grant = new provider.Grant({ accountId, clientId: client.clientId });
  if (scope) grant.addOIDCScope(scope);
  const grantId = await grant.save();
  const at = new provider.AccessToken({ accountId, client, grantId, gty, scope });
  const accessToken = await at.save();
  let refreshToken: string | undefined;
  if (withRefreshToken && client.grantTypeAllowed("refresh_token")) {
    const rt = new provider.RefreshToken({ accountId, client, grantId, gty, scope, rotations: 0 });
    refreshToken = await rt.save();
  }
  ctx.body = {
    access_token: accessToken,
    token_type: at.tokenType ?? "Bearer",
    expires_in: at.expiration,
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
    ...(scope ? { scope } : {}),
    ...(issuedTokenType ? { issued_token_type: issuedTokenType } : {}),
  };
}

/**
 * The password grant. It always issues a refresh token (the demo's "offline_access"
 * semantics), so tests of refresh and rotation can start from a password login.
 */
export function passwordGrant(errors: Errors, provider: Provider, user: DemoUser): GrantHandler {
  return async (ctx) => {
    const { username, password, scope } = ctx.oidc.params;
    if (!username || !password) throw new errors.InvalidRequest("username and password are required");
    if (!sameText(username, user.username) || !sameText(password, user.password)) {
      throw new errors.InvalidGrant("invalid resource owner credentials");
    }
    await issue(provider, ctx, { accountId: user.username, gty: "password", scope, withRefreshToken: true });
  };
}

/** Parameters oidc-provider keeps for each added grant (it drops the rest). */
export const PASSWORD_PARAMS = ["username", "password", "scope"];
export const JWT_BEARER_PARAMS = ["assertion", "scope"];
export const TOKEN_EXCHANGE_PARAMS = ["subject_token", "subject_token_type", "actor_token", "actor_token_type", "requested_token_type", "scope", "audience", "resource"];

/** RFC 8693 §3: the one token type the demo exchanges and issues. */
const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";

/**
 * The token exchange grant (RFC 8693 §2): the subject token must be an access token this
 * server issued and still considers active; the new token is for the same account, issued to
 * the client that asks. Unsupported token types are `invalid_request` (§2.2.2).
 */
export function tokenExchangeGrant(errors: Errors, provider: Provider): GrantHandler {
  return async (ctx) => {
    const { subject_token, subject_token_type, actor_token, actor_token_type, requested_token_type, scope } = ctx.oidc.params;
    if (!subject_token) throw new errors.InvalidRequest("missing required parameter 'subject_token'");
    if (!subject_token_type) throw new errors.InvalidRequest("missing required parameter 'subject_token_type'");
    if (subject_token_type !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest(`unsupported subject_token_type ${subject_token_type}`);
    if (requested_token_type && requested_token_type !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest(`unsupported requested_token_type ${requested_token_type}`);
    if (actor_token && actor_token_type !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest("actor_token_type is required with actor_token");
    const subject = await provider.AccessToken.find(subject_token);
    if (!subject || subject.isExpired || !subject.accountId) throw new errors.InvalidGrant("subject_token is not an active access token of this server");
    if (actor_token && !(await provider.AccessToken.find(actor_token))) throw new errors.InvalidGrant("actor_token is not an active access token of this server");
    await issue(provider, ctx, { accountId: subject.accountId, gty: "token-exchange", scope, withRefreshToken: false, issuedTokenType: ACCESS_TOKEN_TYPE });
  };
}

/** HMAC algorithms a secret client may sign its assertion with. */
const HMAC_ALGS = ["HS256", "HS384", "HS512"];

/**
 * The JWT bearer grant (RFC 7523 §3): the assertion must carry `iss`, `sub`, `aud` (the
 * issuer or the token endpoint) and `exp`, be signed by the demo's client key pair (whichever
 * confidential client authenticates) or HMAC-signed with the authenticating client's own
 * secret, and not be replayed while it is valid. The access token's subject is `sub`; no
 * refresh token is issued (§3.1 leaves it to the server; a new assertion is the way back).
 */
export function jwtBearerGrant(errors: Errors, provider: Provider, clients: DemoClients, tokenEndpoint: string): GrantHandler {
  return async (ctx) => {
    const { assertion, scope } = ctx.oidc.params;
    if (!assertion) throw new errors.InvalidRequest("missing required parameter 'assertion'");
    const clientId = ctx.oidc.client.clientId;
    const own = assertionKeyFor(clients, clientId);
    const audience = [provider.issuer, tokenEndpoint];
    const checks = { audience, requiredClaims: ["iss", "sub", "aud", "exp"], clockTolerance: 0 };
    let payload: JWTPayload | undefined;
    const failures: string[] = [];
    const attempts: Array<() => Promise<JWTPayload>> = [
      async () => (await jwtVerify(assertion, await importJWK(clients.privateKeyJwt.publicJwk, DEMO_KEY_ALG), { ...checks, algorithms: [DEMO_KEY_ALG] })).payload,
    ];
    if (own && "secret" in own) {
      attempts.push(async () => (await jwtVerify(assertion, new TextEncoder().encode(own.secret), { ...checks, algorithms: HMAC_ALGS })).payload);
    }
    for (const attempt of attempts) {
      try {
        payload = await attempt();
        break;
      } catch (error) {
        failures.push((error as { code?: string }).code ?? "ERR_JWT_INVALID");
      }
    }
    if (!payload) throw new errors.InvalidGrant(`assertion rejected (${failures.join(", ")})`);
    if (typeof payload.sub !== "string" || !payload.sub) throw new errors.InvalidGrant("assertion sub must be a non-empty string");
    if (typeof payload.jti === "string") {
      const unique = await provider.ReplayDetection.unique(`jwt-bearer:${clientId}`, payload.jti, payload.exp as number);
      if (!unique) throw new errors.InvalidGrant("assertion already used");
    }
    await issue(provider, ctx, { accountId: payload.sub, gty: "jwt-bearer", scope, withRefreshToken: false });
  };
}

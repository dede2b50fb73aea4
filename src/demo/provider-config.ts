import type { JWK } from "jose";
import type { ProviderClient } from "oidc-provider";
import type { DemoStorage } from "./adapter.js";
import { DEMO_KEY_ALG, type DemoClients, clientMetadata } from "./clients.js";
import type { DemoUser } from "./grants.js";
import type { OidcModule } from "./load.js";
import { renderError, successSource, userCodeConfirmSource, userCodeInputSource } from "./pages.js";

/**
 * The oidc-provider configuration of the demo server: strict where tokensmith's behaviour is
 * under test, explicit everywhere else so the provider prints none of its "you should
 * change this default" notices. Deliberate choices, each visible to tests:
 * - PKCE is required for every authorization request, S256 only (oidc-provider v9 knows no other).
 * - Refresh tokens rotate on every use; a rotated one presented again revokes the whole grant
 *   (oidc-provider's refresh_token grant does this itself: it destroys the token and the grant).
 * - A refresh token is issued to every client allowed the refresh_token grant, whether or not
 *   it asked for `offline_access`: oidc-provider drops `offline_access` from authorization
 *   requests without `prompt=consent` (OIDC Core §11), and the demo wants refresh to work.
 * - Tokens never end with the browser session (there is none worth keeping in a demo).
 * - No clock tolerance: a token is invalid from its `exp` second on.
 * - Only the code response type; `iss` is in every authorization response (RFC 9207; always on in v9).
 */

/** Everything the configuration depends on, made by startDemoServer. */
export interface ProviderSettings {
  clients: DemoClients;
  user: DemoUser;
  signingKey: JWK;
  storage: DemoStorage;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  rotateRefreshTokens: boolean;
  /** False: no refresh token for anyone (a server whose logins last one access token). */
  issueRefreshTokens: boolean;
  /** The protected API's resource indicator (RFC 8707). */
  apiResource: string;
}

/** Scopes the demo knows; `api:*` are the protected API's (`api:write` unlocks /api/admin). */
export const DEMO_SCOPES = ["openid", "offline_access", "profile", "email", "api:read", "api:write"];
const API_SCOPES = "api:read api:write";

/** Authorization codes are exchanged at once by any working client. */
const AUTHORIZATION_CODE_TTL_S = 60;
/** Device codes: time enough for a person to type the user code (RFC 8628 §3.2 example: 1800). */
const DEVICE_CODE_TTL_S = 600;
/** ID tokens are read once, at login. */
const ID_TOKEN_TTL_S = 3600;
/** A sign-in page left open longer than this starts over. */
const INTERACTION_TTL_S = 600;
const SESSION_TTL_S = 24 * 3600;
/** A grant must outlive every refresh token rotated from it; a demo never runs a year. */
const GRANT_TTL_S = 365 * 24 * 3600;

/** The configuration object for `new Provider(issuer, configuration)`. */
export function providerConfiguration(oidc: OidcModule, settings: ProviderSettings): Record<string, unknown> {
  const { clients, user, storage, accessTokenTtl, refreshTokenTtl, apiResource } = settings;
  const accessTtl = (_ctx: unknown, token: { resourceServer?: { accessTokenTTL?: number } }) => token.resourceServer?.accessTokenTTL ?? accessTokenTtl;
  type Token = { clientId?: string };

  return {
    adapter: (model: string) => storage.adapterFor(model),
    clients: clientMetadata(clients),
    clientDefaults: { id_token_signed_response_alg: DEMO_KEY_ALG, response_types: ["code"], grant_types: ["authorization_code"] },
    jwks: { keys: [settings.signingKey] },
    async findAccount(_ctx: unknown, id: string) {
      const known = id === user.username ? { name: "Demo User", email: `${user.username}@example.com`, email_verified: true } : {};
      return { accountId: id, claims: async () => ({ sub: id, ...known }) };
    },
    claims: { openid: ["sub"], profile: ["name"], email: ["email", "email_verified"] },
    scopes: DEMO_SCOPES,
    responseTypes: ["code"],
    clockTolerance: 0,
    pkce: { required: () => true },
    rotateRefreshToken: settings.rotateRefreshTokens,
    issueRefreshToken: async (_ctx: unknown, client: ProviderClient) => settings.issueRefreshTokens && client.grantTypeAllowed("refresh_token"),
    expiresWithSession: async () => false,
    clientBasedCORS: () => false,
    renderError,
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      deviceFlow: { enabled: true, userCodeInputSource, userCodeConfirmSource, successSource },
      introspection: {
        enabled: true,
        // Public clients may introspect only their own tokens (oidc-provider's default rule).
        allowedPolicy: async (ctx: { oidc: { client: Token & { clientAuthMethod?: string } } }, _client: unknown, token: Token) =>
          !(ctx.oidc.client.clientAuthMethod === "none" && token.clientId !== ctx.oidc.client.clientId),
      },
      revocation: {
        enabled: true,
        // A client may revoke only its own tokens (oidc-provider's default rule).
        allowedPolicy: async (_ctx: unknown, client: Token & { clientId: string; clientAuthMethod?: string }, token: Token) => {
          if (token.clientId === client.clientId) return true;
          if (client.clientAuthMethod === "none") return false;
          throw new oidc.errors.InvalidRequest("client is not authorized to revoke the presented token");
        },
      },
      rpInitiatedLogout: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => undefined,
        useGrantedResource: async () => false,
        getResourceServerInfo: async (_ctx: unknown, indicator: string) => {
          if (indicator !== apiResource) throw new oidc.errors.InvalidTarget(`unknown resource; this server knows ${apiResource}`);
          // Opaque, so the API can look every token up and see revocations at once.
          return { scope: API_SCOPES, audience: apiResource, accessTokenTTL: accessTokenTtl, accessTokenFormat: "opaque" };
        },
      },
    },
    ttl: {
      AccessToken: accessTtl,
      ClientCredentials: accessTtl,
      AuthorizationCode: AUTHORIZATION_CODE_TTL_S,
      DeviceCode: DEVICE_CODE_TTL_S,
      IdToken: ID_TOKEN_TTL_S,
      RefreshToken: refreshTokenTtl,
      Interaction: INTERACTION_TTL_S,
      Session: SESSION_TTL_S,
      Grant: GRANT_TTL_S,
    },
  };
}

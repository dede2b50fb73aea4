import { TokenSmithError } from "../errors.js";
import { clientRequest, type Params } from "./request.js";
import type { Endpoints, GrantRequest, OAuthClient, PreparedRequest, RequestOptions } from "./types.js";
import { fieldPath, requiredEndpoint } from "./urls.js";

/** RFC 7523 §2.1 and RFC 8628 §3.4 grant type URIs. */
export const JWT_BEARER_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer";
export const DEVICE_CODE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code";
/** RFC 8693 §2.1. */
export const TOKEN_EXCHANGE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange";

/** The requested scopes as one parameter value, or undefined when there are none. */
export function scopeParam(options: Pick<RequestOptions, "scopes" | "scopeSeparator">): string | undefined {
  return options.scopes.length > 0 ? options.scopes.join(options.scopeSeparator) : undefined;
}

/** `audience` and `resource` go on token requests and authorization URLs alike. */
export function audienceParams(options: Pick<RequestOptions, "audience" | "resource">): Params {
  return { audience: options.audience, resource: options.resource };
}

/** The token URL, checked (https or loopback); a missing one is a configuration error. */
export function tokenEndpoint(client: Pick<OAuthClient, "name" | "options">, endpoints: Endpoints): string {
  return requiredEndpoint(client, endpoints.tokenUrl, {
    setting: "token_url",
    noun: "token URL",
    code: "config_invalid",
    hint: "set token_url, or issuer / discovery_url to discover it",
  });
}

function required(client: OAuthClient, value: string | undefined, field: string, grant: string): string {
  if (!value) throw new TokenSmithError("config_invalid", `the ${grant} grant needs ${field}`, { field: fieldPath(client.name, field) });
  return value;
}

/** The grant's own parameters (RFC 6749 §4.1.3, §4.3.2, §4.4.2, §6; RFC 7523 §2.1; RFC 8628 §3.4; RFC 8693 §2.1). */
async function grantParams(client: OAuthClient, endpoints: Endpoints, grant: GrantRequest, now: number): Promise<Params> {
  const scope = scopeParam(client.options);
  switch (grant.kind) {
    case "client_credentials":
      return { grant_type: "client_credentials", scope };
    case "password":
      return {
        grant_type: "password",
        username: required(client, client.grant.username, "username", "password"),
        password: required(client, client.grant.password, "password", "password"),
        scope,
      };
    case "jwt_bearer": {
      const sign = client.grant.assertion;
      if (!sign) throw new TokenSmithError("config_invalid", "the jwt_bearer grant needs a private_key", { field: fieldPath(client.name, "private_key") });
      return { grant_type: JWT_BEARER_GRANT_TYPE, assertion: await sign({ endpoints, now }), scope: client.grant.scopeInAssertion ? undefined : scope };
    }
    case "token_exchange": {
      const exchange = client.grant.tokenExchange;
      return {
        grant_type: TOKEN_EXCHANGE_GRANT_TYPE,
        subject_token: required(client, grant.subjectToken, "subject_token", "token_exchange"),
        subject_token_type: exchange?.subjectType,
        actor_token: grant.actorToken,
        actor_token_type: grant.actorToken ? exchange?.actorType : undefined,
        requested_token_type: exchange?.requestedType,
        scope,
      };
    }
    case "refresh_token":
      // RFC 6749 §6: scope is optional and defaults to the original grant's; presets that need
      // it on refresh (Microsoft) put it in refresh_params.
      return { grant_type: "refresh_token", refresh_token: grant.refreshToken };
    case "authorization_code":
      return { grant_type: "authorization_code", code: grant.code, redirect_uri: grant.redirectUri, code_verifier: grant.codeVerifier };
    case "device_code":
      return { grant_type: DEVICE_CODE_GRANT_TYPE, device_code: grant.deviceCode };
    case "custom":
      return { grant_type: required(client, client.grant.grantType, "grant_type", "custom"), scope };
  }
}

/** The short-lived secrets a grant sends (the client's own are registered where the client is built). */
export function grantSecrets(grant: GrantRequest): Array<string | undefined> {
  switch (grant.kind) {
    case "refresh_token":
      return [grant.refreshToken];
    case "authorization_code":
      return [grant.code, grant.codeVerifier];
    case "device_code":
      return [grant.deviceCode];
    case "token_exchange":
      // Often another connection's access token, new after each of its refreshes.
      return [grant.subjectToken, grant.actorToken];
    default:
      return [];
  }
}

/**
 * Builds a token request (pure apart from signing assertions with the injected clock):
 * grant parameters, scopes, audience/resource, `token_params` on every request and
 * `refresh_params` on refreshes, the client's headers and authentication, form or JSON body.
 */
export async function buildTokenRequest(
  client: OAuthClient,
  endpoints: Endpoints,
  grant: GrantRequest,
  options: { now: () => number },
): Promise<PreparedRequest> {
  const url = tokenEndpoint(client, endpoints);
  const params: Params = {
    ...(await grantParams(client, endpoints, grant, options.now())),
    ...audienceParams(client.options),
    ...client.options.tokenParams,
    ...(grant.kind === "refresh_token" ? client.options.refreshParams : {}),
  };
  return clientRequest(client, url, params, { endpoints: { ...endpoints, tokenUrl: url }, now: options.now, json: client.options.body === "json" });
}

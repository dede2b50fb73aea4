import type { ResolvedConnection } from "../config/types.js";
import { TokenSmithError } from "../errors.js";
import { registerSecret } from "../redact.js";
import { signGrantAssertion } from "./assertion.js";
import { clientAuthentication } from "./client-auth.js";
import { prepareRequest, type Params } from "./request.js";
import type { Endpoints, GrantRequest, PreparedRequest } from "./types.js";
import { checkEndpointUrl, fieldPath } from "./urls.js";

/** RFC 7523 §2.1 and RFC 8628 §3.4 grant type URIs. */
export const JWT_BEARER_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer";
export const DEVICE_CODE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code";
/** RFC 8693 §2.1. */
export const TOKEN_EXCHANGE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange";

/** The requested scopes as one parameter value, or undefined when there are none. */
export function scopeParam(conn: ResolvedConnection): string | undefined {
  return conn.scopes.length > 0 ? conn.scopes.join(conn.scopeSeparator) : undefined;
}

/** `audience` and `resource` go on token requests and authorization URLs alike. */
export function audienceParams(conn: ResolvedConnection): Params {
  return { audience: conn.audience, resource: conn.resource };
}

/** The token URL, checked (https or loopback); a missing one is a configuration error. */
export function tokenEndpoint(conn: ResolvedConnection, endpoints: Endpoints): string {
  const field = fieldPath(conn.name, "token_url");
  if (!endpoints.tokenUrl) {
    throw new TokenSmithError("config_invalid", `connection ${conn.name} has no token URL`, {
      field,
      hint: "set token_url, or issuer / discovery_url to discover it",
    });
  }
  return checkEndpointUrl(endpoints.tokenUrl, { field, allowInsecureHttp: conn.allowInsecureHttp });
}

function required(conn: ResolvedConnection, value: string | undefined, field: string, grant: string): string {
  if (!value) throw new TokenSmithError("config_invalid", `the ${grant} grant needs ${field}`, { field: fieldPath(conn.name, field) });
  return value;
}

/** The grant's own parameters (RFC 6749 §4.1.3, §4.3.2, §4.4.2, §6; RFC 7523 §2.1; RFC 8628 §3.4; RFC 8693 §2.1). */
async function grantParams(conn: ResolvedConnection, endpoints: Endpoints, grant: GrantRequest, now: number): Promise<Params> {
  const scope = scopeParam(conn);
  switch (grant.kind) {
    case "client_credentials":
      return { grant_type: "client_credentials", scope };
    case "password":
      return {
        grant_type: "password",
        username: required(conn, conn.username, "username", "password"),
        password: required(conn, conn.password, "password", "password"),
        scope,
      };
    case "jwt_bearer":
      return { grant_type: JWT_BEARER_GRANT_TYPE, assertion: await signGrantAssertion(conn, endpoints, now), scope };
    case "token_exchange": {
      const exchange = conn.tokenExchange;
      return {
        grant_type: TOKEN_EXCHANGE_GRANT_TYPE,
        subject_token: required(conn, grant.subjectToken, "subject_token", "token_exchange"),
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
      return { grant_type: required(conn, conn.grantType, "grant_type", "custom"), scope };
  }
}

/**
 * Secrets this request carries, registered so no error or log can show them (the client secret
 * is registered, in every encoding, where the client authentication is built). Rotating values
 * are registered again before every request, which makes them the newest in the bounded registry.
 */
function registerRequestSecrets(conn: ResolvedConnection, grant: GrantRequest): void {
  registerSecret(conn.password);
  if (grant.kind === "refresh_token") registerSecret(grant.refreshToken, { rotating: true });
  if (grant.kind === "authorization_code") {
    registerSecret(grant.code, { rotating: true });
    registerSecret(grant.codeVerifier, { rotating: true });
  }
  if (grant.kind === "device_code") registerSecret(grant.deviceCode, { rotating: true });
  if (grant.kind === "token_exchange") {
    // Often another connection's access token, new after each of its refreshes.
    registerSecret(grant.subjectToken, { rotating: true });
    registerSecret(grant.actorToken, { rotating: true });
  }
}

/**
 * Builds a token request (pure apart from signing assertions with the injected clock):
 * grant parameters, scopes, audience/resource, `token_params` on every request and
 * `refresh_params` on refreshes, `token_headers`, client authentication, form or JSON body.
 */
export async function buildTokenRequest(
  conn: ResolvedConnection,
  endpoints: Endpoints,
  grant: GrantRequest,
  options: { now: () => number },
): Promise<PreparedRequest> {
  const url = tokenEndpoint(conn, endpoints);
  registerRequestSecrets(conn, grant);
  const params: Params = {
    ...(await grantParams(conn, endpoints, grant, options.now())),
    ...audienceParams(conn),
    ...conn.tokenParams,
    ...(grant.kind === "refresh_token" ? conn.refreshParams : {}),
  };
  const auth = await clientAuthentication(conn, { ...endpoints, tokenUrl: url }, options);
  return prepareRequest(url, params, { auth, headers: conn.tokenHeaders, json: conn.tokenBody === "json" });
}

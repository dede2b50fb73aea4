import { signClientAssertion, type ClientAssertionOptions, type SigningKey } from "./assertion.js";
import type { AuthContext, ClientAuth, Endpoints, OAuthClient, Params } from "./types.js";

/**
 * Client authentication as values (oauth4webapi's `ClientSecretBasic`): each factory returns a
 * `ClientAuth` that applies itself to a request's headers (Basic) or body parameters
 * (everything else). Which one a connection uses, and registering its secrets for redaction,
 * is decided once, where the client is built (config/protocol-client.ts).
 */
export interface ClientAuthentication {
  headers: Record<string, string>;
  params: Record<string, string>;
}

/** RFC 7523 §2.2: the type of a JWT client assertion. */
export const CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/**
 * RFC 6749 Appendix B's application/x-www-form-urlencoded: UTF-8, every octet but ALPHA and
 * DIGIT percent-encoded (`*`, `-`, `.`, `_` too, which the WHATWG serializer leaves), space as
 * `+` — as oauth4webapi and simple-oauth2 send it.
 */
export function formEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*\-._~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`)
    .replace(/%20/g, "+");
}

/**
 * The `Authorization: Basic` value. RFC 6749 §2.3.1 wants id and secret form-urlencoded before
 * base64 (`form`); some servers never decode, so `raw` sends them as they are.
 */
export function basicAuthorization(clientId: string, clientSecret: string, encoding: "form" | "raw"): string {
  const pair = encoding === "form" ? `${formEncode(clientId)}:${formEncode(clientSecret)}` : `${clientId}:${clientSecret}`;
  return `Basic ${Buffer.from(pair, "utf8").toString("base64")}`;
}

/** `client_secret_basic` (RFC 6749 §2.3.1): the credentials in the Authorization header only. */
export function clientSecretBasic(clientId: string, clientSecret: string, encoding: "form" | "raw" = "form"): ClientAuth {
  return ({ headers }) => {
    headers.Authorization = basicAuthorization(clientId, clientSecret, encoding);
  };
}

/** `client_secret_post`: client_id and client_secret in the body. */
export function clientSecretPost(clientId: string, clientSecret: string): ClientAuth {
  return ({ params }) => {
    params.client_id = clientId;
    params.client_secret = clientSecret;
  };
}

/** A public client: only its client_id, when it has one, in the body. */
export function none(clientId?: string): ClientAuth {
  return ({ params }) => {
    if (clientId) params.client_id = clientId;
  };
}

/** Puts a signed client assertion (RFC 7523 §2.2) and the client_id in the body. */
function assertionAuth(clientId: string, signing: () => SigningKey, options: ClientAssertionOptions): ClientAuth {
  return async ({ params }, context) => {
    params.client_id = clientId;
    params.client_assertion_type = CLIENT_ASSERTION_TYPE;
    params.client_assertion = await signClientAssertion(clientId, signing(), options, context);
  };
}

/** `private_key_jwt`: an assertion signed with the client's private key (a key, or a loader that throws a config error). */
export function privateKeyJwt(clientId: string, key: SigningKey | (() => SigningKey), options: ClientAssertionOptions): ClientAuth {
  return assertionAuth(clientId, typeof key === "function" ? key : () => key, options);
}

/** `client_secret_jwt`: an assertion MACed with the client secret (HS256 unless `alg` says otherwise). */
export function clientSecretJwt(clientId: string, clientSecret: string, options: ClientAssertionOptions & { alg?: string; kid?: string }): ClientAuth {
  const signing = { key: new TextEncoder().encode(clientSecret), alg: options.alg ?? "HS256", kid: options.kid };
  return assertionAuth(clientId, () => signing, options);
}

/** A client authentication that cannot work (a missing secret): it throws this error when a request is built. */
export function misconfigured(error: Error): ClientAuth {
  return () => {
    throw error;
  };
}

/** Applies the client's authentication to an empty request: what it adds to headers and body. */
export async function clientAuthentication(client: Pick<OAuthClient, "auth">, endpoints: Endpoints, options: { now: () => number }): Promise<ClientAuthentication> {
  const target: { params: Params; headers: Record<string, string> } = { params: {}, headers: {} };
  const context: AuthContext = { endpoints, now: options.now() };
  await client.auth(target, context);
  return { headers: target.headers, params: target.params as Record<string, string> };
}

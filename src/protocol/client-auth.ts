import type { ResolvedConnection } from "../config/types.js";
import { TokenSmithError } from "../errors.js";
import { registerSecret, registerSecretEncoding } from "../redact.js";
import { signClientAssertion } from "./assertion.js";
import type { Endpoints } from "./types.js";
import { fieldPath } from "./urls.js";

/**
 * Client authentication at the token, revocation, introspection and device authorization
 * endpoints (RFC 6749 §2.3, RFC 7523 §2.2). The result is merged into a request: headers
 * (Basic) and body parameters (everything else).
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

/**
 * Registers a client secret for redaction in every encoding tokensmith sends it (SPEC §2.14):
 * as is and form-encoded (body), and inside both `basic_encoding` variants of the Basic
 * header's base64 — a server that echoes the header's credentials back must not get them
 * printed. The one place this happens, where the client authentication is built.
 */
export function registerClientSecret(clientId: string | undefined, clientSecret: string | undefined): void {
  if (!clientSecret) return;
  registerSecret(clientSecret);
  registerSecretEncoding(formEncode(clientSecret));
  if (clientId === undefined) return;
  for (const encoding of ["form", "raw"] as const) registerSecretEncoding(basicAuthorization(clientId, clientSecret, encoding).slice("Basic ".length));
}

function requireField(conn: ResolvedConnection, value: string | undefined, field: string): string {
  if (!value) {
    throw new TokenSmithError("config_invalid", `client_auth ${conn.clientAuth} needs ${field}`, { field: fieldPath(conn.name, field) });
  }
  return value;
}

/** Computes the client authentication for one request per `client_auth`; `now` dates assertions. */
export async function clientAuthentication(
  conn: ResolvedConnection,
  endpoints: Endpoints,
  options: { now: () => number },
): Promise<ClientAuthentication> {
  registerClientSecret(conn.clientId, conn.clientSecret);
  switch (conn.clientAuth) {
    case "basic": {
      const id = requireField(conn, conn.clientId, "client_id");
      const secret = requireField(conn, conn.clientSecret, "client_secret");
      return { headers: { Authorization: basicAuthorization(id, secret, conn.basicEncoding) }, params: {} };
    }
    case "post":
      return {
        headers: {},
        params: { client_id: requireField(conn, conn.clientId, "client_id"), client_secret: requireField(conn, conn.clientSecret, "client_secret") },
      };
    case "none":
      return { headers: {}, params: conn.clientId ? { client_id: conn.clientId } : {} };
    case "tls_client_auth":
    case "self_signed_tls_client_auth":
      // RFC 8705 §2: the TLS client certificate authenticates (the transport presents it); the body names the client.
      return { headers: {}, params: { client_id: requireField(conn, conn.clientId, "client_id") } };
    case "private_key_jwt":
    case "client_secret_jwt": {
      const assertion = await signClientAssertion(conn, endpoints, options.now());
      return {
        headers: {},
        params: { client_id: requireField(conn, conn.clientId, "client_id"), client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion },
      };
    }
  }
}

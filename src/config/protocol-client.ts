import {
  clientSecretBasic,
  clientSecretJwt,
  clientSecretPost,
  basicAuthorization,
  formEncode,
  misconfigured,
  none,
  privateKeyJwt,
} from "../protocol/client-auth.js";
import { certificateThumbprints, jwtBearerAssertion, loadPrivateKey, type ClientAssertionOptions, type SigningKey } from "../protocol/assertion.js";
import type { ClientAuth, OAuthClient } from "../protocol/types.js";
import { fieldPath } from "../protocol/urls.js";
import { TokenSmithError } from "../errors.js";
import { registerSecret, registerSecretEncoding } from "../redact.js";
import type { ResolvedConnection } from "./types.js";

/**
 * The protocol layer's view of a resolved connection: its client, client authentication as a
 * value, request options and grant inputs (SPEC §7: the protocol has its own types). Built once
 * per resolved connection, and the one place a connection's secrets are registered for
 * redaction (SPEC §2.14); the short-lived ones a request sends reach the registry through
 * `onSecret`.
 */
const built = new WeakMap<ResolvedConnection, OAuthClient>();

export function protocolClient(conn: ResolvedConnection): OAuthClient {
  let client = built.get(conn);
  if (!client) {
    client = buildClient(conn);
    built.set(conn, client);
  }
  return client;
}

/**
 * `client_auth: auto` (SPEC §1): the ways a client with a secret is tried, in order — Basic with
 * RFC 6749's form encoding, Basic raw (only when the id or secret encodes differently), then
 * the body.
 */
export type AutoMethod = "basic" | "basic_raw" | "post";

/** The methods `auto` tries for this connection, in order. */
export function autoMethods(conn: Pick<ResolvedConnection, "clientId" | "clientSecret">): AutoMethod[] {
  const { clientId = "", clientSecret = "" } = conn;
  const differs = formEncode(clientId) !== clientId || formEncode(clientSecret) !== clientSecret;
  return differs ? ["basic", "basic_raw", "post"] : ["basic", "post"];
}

/** The config lines that pin a method `auto` found (what `status` and `test` show). */
export function pinLine(method: AutoMethod): string {
  return method === "post" ? "client_auth: post" : method === "basic_raw" ? "client_auth: basic, basic_encoding: raw" : "client_auth: basic";
}

/** The connection's client, authenticating with one method of `auto` (for the others, its own client). */
export function protocolClientWith(conn: ResolvedConnection, method: AutoMethod | undefined): OAuthClient {
  const client = protocolClient(conn);
  if (conn.clientAuth !== "auto" || !method) return client;
  return { ...client, auth: autoAuth(conn, method) };
}

function autoAuth(conn: ResolvedConnection, method: AutoMethod): ClientAuth {
  const { clientId, clientSecret } = conn;
  if (!clientId) return misconfigured(new TokenSmithError("config_invalid", "client_auth auto needs client_id", { field: fieldPath(conn.name, "client_id") }));
  if (!clientSecret) return misconfigured(new TokenSmithError("config_invalid", "client_auth auto needs client_secret", { field: fieldPath(conn.name, "client_secret") }));
  return method === "post" ? clientSecretPost(clientId, clientSecret) : clientSecretBasic(clientId, clientSecret, method === "basic_raw" ? "raw" : "form");
}

/** Rotating values are registered again before every request, which makes them the newest in the bounded registry. */
const registerRotating = (value: string) => registerSecret(value, { rotating: true });

function buildClient(conn: ResolvedConnection): OAuthClient {
  registerClientSecret(conn.clientId, conn.clientSecret);
  registerSecret(conn.password);
  const assertion = conn.assertion;
  return {
    name: conn.name,
    clientId: conn.clientId,
    auth: clientAuth(conn),
    options: {
      scopes: conn.scopes,
      scopeSeparator: conn.scopeSeparator,
      audience: conn.audience,
      resource: conn.resource,
      tokenParams: conn.tokenParams,
      refreshParams: conn.refreshParams,
      headers: conn.tokenHeaders,
      body: conn.tokenBody,
      timeoutMs: conn.timeoutMs,
      allowInsecureHttp: conn.allowInsecureHttp,
    },
    grant: {
      username: conn.username,
      password: conn.password,
      grantType: conn.grantType,
      assertion: jwtBearerAssertion(conn.name, { ...assertion, privateKey: conn.privateKey, iss: assertion.iss ?? conn.clientId, scope: conn.scopes.join(conn.scopeSeparator) }),
      scopeInAssertion: assertion.scopeInAssertion,
      tokenExchange: conn.tokenExchange && {
        subjectType: conn.tokenExchange.subjectType,
        actorType: conn.tokenExchange.actorType,
        requestedType: conn.tokenExchange.requestedType,
      },
    },
    authorization: { params: conn.authorizationParams, pkce: conn.pkce },
    response: { mapping: conn.response, anyTokenType: conn.headerSet === true },
    onSecret: registerRotating,
  };
}

/**
 * Registers a client secret in every encoding tokensmith sends it (SPEC §2.14): as is and
 * form-encoded (body), and inside both `basic_encoding` variants of the Basic header's base64 —
 * a server that echoes the header's credentials back must not get them printed.
 */
function registerClientSecret(clientId: string | undefined, clientSecret: string | undefined): void {
  if (!clientSecret) return;
  registerSecret(clientSecret);
  registerSecretEncoding(formEncode(clientSecret));
  if (clientId === undefined) return;
  for (const encoding of ["form", "raw"] as const) registerSecretEncoding(basicAuthorization(clientId, clientSecret, encoding).slice("Basic ".length));
}

/** The connection's `client_auth` as a value; a missing id, secret or key gives one that throws when a request is built. */
function clientAuth(conn: ResolvedConnection): ClientAuth {
  const missing = (what: string, field: string) =>
    misconfigured(new TokenSmithError("config_invalid", what, { field: fieldPath(conn.name, field) }));
  const { clientId, clientSecret } = conn;
  switch (conn.clientAuth) {
    case "auto":
      // Until a token request has found (or read back) the method that works: Basic, form-encoded.
      return autoAuth(conn, "basic");
    case "basic":
    case "post": {
      if (!clientId) return missing(`client_auth ${conn.clientAuth} needs client_id`, "client_id");
      if (!clientSecret) return missing(`client_auth ${conn.clientAuth} needs client_secret`, "client_secret");
      return conn.clientAuth === "basic" ? clientSecretBasic(clientId, clientSecret, conn.basicEncoding) : clientSecretPost(clientId, clientSecret);
    }
    case "none":
      return none(clientId);
    case "tls_client_auth":
    case "self_signed_tls_client_auth":
      // RFC 8705 §2: the TLS client certificate authenticates (the transport presents it); the body names the client.
      if (!clientId) return missing(`client_auth ${conn.clientAuth} needs client_id`, "client_id");
      return none(clientId);
    case "client_secret_jwt": {
      if (!clientId) return missing("client_secret_jwt client authentication needs a client_id", "client_id");
      if (!clientSecret) return missing("client_secret_jwt needs a client_secret", "client_secret");
      return clientSecretJwt(clientId, clientSecret, { ...assertionOptions(conn, "client_secret"), alg: conn.assertion.alg, kid: conn.assertion.kid });
    }
    case "private_key_jwt": {
      if (!clientId) return missing("private_key_jwt client authentication needs a client_id", "client_id");
      const privateKey = conn.privateKey;
      if (!privateKey) return missing("private_key_jwt needs a private_key", "private_key");
      const field = fieldPath(conn.name, "private_key");
      let loaded: SigningKey | undefined;
      // Loaded on first use (a bad key is an error of the request, as before), then kept.
      const key = () => (loaded ??= withCertificate(conn, loadPrivateKey(privateKey, { field, alg: conn.assertion.alg, kid: conn.assertion.kid })));
      return privateKeyJwt(clientId, key, assertionOptions(conn, "private_key"));
    }
  }
}

/** The key with its certificate's thumbprints for the assertion header, when `certificate` is set (SPEC §1). */
function withCertificate(conn: ResolvedConnection, key: SigningKey): SigningKey {
  if (!conn.certificate) return key;
  return { ...key, thumbprints: certificateThumbprints(conn.certificate, { field: fieldPath(conn.name, "certificate"), sha1: conn.assertion.x5t === "sha1" }) };
}

/**
 * A client assertion's lifetime, claims and audience. For a `jwt_bearer` connection the
 * `assertion` settings describe the grant's assertion, so only kid/alg/ttl carry over here.
 */
function assertionOptions(conn: ResolvedConnection, keyField: string): ClientAssertionOptions {
  const own = conn.grant !== "jwt_bearer";
  return {
    ttlMs: conn.assertion.ttlMs,
    claims: own ? conn.assertion.claims : {},
    aud: own ? conn.assertion.aud : undefined,
    field: fieldPath(conn.name, keyField),
    audienceField: fieldPath(conn.name, "token_url"),
  };
}

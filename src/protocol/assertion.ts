import { createPrivateKey, randomUUID, type JsonWebKey, type KeyObject } from "node:crypto";
import type { ResolvedConnection } from "../config/types.js";
import { TokenSmithError } from "../errors.js";
import type { Endpoints } from "./types.js";
import { fieldPath } from "./urls.js";

/**
 * JWTs we sign: RFC 7523 client assertions (private_key_jwt, client_secret_jwt) and the
 * `jwt_bearer` grant's assertion. Keys may be PEM or JWK; the algorithm follows the key type
 * unless the `assertion.alg` setting names one.
 */
export interface SigningKey {
  key: KeyObject | Uint8Array;
  alg: string;
  kid?: string;
}

/** Default algorithm per key type: the one every server supporting that key type accepts. */
const EC_CURVE_ALGS: Record<string, string> = { prime256v1: "ES256", "P-256": "ES256", secp384r1: "ES384", "P-384": "ES384", secp521r1: "ES512", "P-521": "ES512" };

function defaultAlg(key: KeyObject): string | undefined {
  switch (key.asymmetricKeyType) {
    case "rsa":
      return "RS256";
    case "rsa-pss":
      return "PS256";
    case "ec":
      return EC_CURVE_ALGS[key.asymmetricKeyDetails?.namedCurve ?? ""];
    case "ed25519":
    case "ed448":
      return "EdDSA";
    default:
      return undefined;
  }
}

/** Loads a PEM or JWK (JSON text) private key. Errors name the field, never the key material. */
export function loadPrivateKey(text: string, options: { field: string; alg?: string; kid?: string }): SigningKey {
  const trimmed = text.trim();
  let key: KeyObject;
  let jwk: { alg?: unknown; kid?: unknown } | undefined;
  try {
    if (trimmed.startsWith("{")) {
      jwk = JSON.parse(trimmed) as { alg?: unknown; kid?: unknown };
      key = createPrivateKey({ key: jwk as JsonWebKey, format: "jwk" });
    } else {
      key = createPrivateKey(trimmed);
    }
  } catch (cause) {
    throw new TokenSmithError("config_invalid", `${options.field} is not a readable private key (PEM or JWK expected)`, {
      field: options.field,
      hint: "a PEM needs its BEGIN/END lines and newlines; a JWK must be the private key (with d)",
      cause,
    });
  }
  if (key.type !== "private") {
    throw new TokenSmithError("config_invalid", `${options.field} holds a public key; a private key is needed`, { field: options.field });
  }
  const alg = options.alg ?? (typeof jwk?.alg === "string" ? jwk.alg : undefined) ?? defaultAlg(key);
  if (!alg) {
    throw new TokenSmithError("config_invalid", `${options.field}: no default signing algorithm for a ${key.asymmetricKeyType} key`, {
      field: options.field,
      hint: "set assertion.alg",
    });
  }
  const kid = options.kid ?? (typeof jwk?.kid === "string" ? jwk.kid : undefined);
  return { key, alg, kid };
}

/** Signs `claims` with iat/exp from the injected clock and a unique jti (replay protection). */
export async function signAssertion(
  claims: Record<string, unknown>,
  signing: SigningKey,
  options: { now: number; ttlMs: number; field: string },
): Promise<string> {
  const iat = Math.floor(options.now / 1000);
  const exp = iat + Math.max(1, Math.round(options.ttlMs / 1000));
  const header = signing.kid === undefined ? { alg: signing.alg, typ: "JWT" } : { alg: signing.alg, kid: signing.kid, typ: "JWT" };
  try {
    // jose is loaded only by connections that sign: `tokensmith token` stays fast for the rest.
    const { SignJWT } = await import("jose");
    return await new SignJWT({ ...claims, iat, exp, jti: randomUUID() }).setProtectedHeader(header).sign(signing.key);
  } catch (cause) {
    throw new TokenSmithError("config_invalid", `cannot sign an assertion with alg ${signing.alg}: the key does not fit it`, {
      field: options.field,
      hint: "check assertion.alg against the key type (RSA: RS256/PS256, EC P-256: ES256, Ed25519: EdDSA)",
      cause,
    });
  }
}

/** The audience of a JWT we sign: `assertion.aud`, else the issuer when known, else the token URL. */
function audience(conn: ResolvedConnection, endpoints: Endpoints, useSettings: boolean): string {
  const aud = (useSettings ? conn.assertion.aud : undefined) ?? endpoints.issuer ?? endpoints.tokenUrl;
  if (!aud) throw new TokenSmithError("config_invalid", "no audience for the assertion: no issuer or token_url", { field: fieldPath(conn.name, "token_url") });
  return aud;
}

function requireClientId(conn: ResolvedConnection): string {
  if (!conn.clientId) {
    throw new TokenSmithError("config_invalid", `${conn.clientAuth} client authentication needs a client_id`, { field: fieldPath(conn.name, "client_id") });
  }
  return conn.clientId;
}

/**
 * RFC 7523 §2.2 / §3 client assertion: iss = sub = client_id. For a `jwt_bearer` connection the
 * `assertion` settings describe the grant's assertion, so only kid/alg/ttl carry over here.
 */
export async function signClientAssertion(conn: ResolvedConnection, endpoints: Endpoints, now: number): Promise<string> {
  const clientId = requireClientId(conn);
  const own = conn.grant !== "jwt_bearer";
  let signing: SigningKey;
  let field: string;
  if (conn.clientAuth === "client_secret_jwt") {
    field = fieldPath(conn.name, "client_secret");
    if (!conn.clientSecret) throw new TokenSmithError("config_invalid", "client_secret_jwt needs a client_secret", { field });
    signing = { key: new TextEncoder().encode(conn.clientSecret), alg: conn.assertion.alg ?? "HS256", kid: conn.assertion.kid };
  } else {
    field = fieldPath(conn.name, "private_key");
    if (!conn.privateKey) throw new TokenSmithError("config_invalid", "private_key_jwt needs a private_key", { field });
    signing = loadPrivateKey(conn.privateKey, { field, alg: conn.assertion.alg, kid: conn.assertion.kid });
  }
  const claims = { ...(own ? conn.assertion.claims : {}), iss: clientId, sub: clientId, aud: audience(conn, endpoints, own) };
  return signAssertion(claims, signing, { now, ttlMs: conn.assertion.ttlMs, field });
}

/** The RFC 7523 §2.1 authorization grant assertion: `sub` is the identity the token is for. */
export async function signGrantAssertion(conn: ResolvedConnection, endpoints: Endpoints, now: number): Promise<string> {
  const keyField = fieldPath(conn.name, "private_key");
  if (!conn.privateKey) throw new TokenSmithError("config_invalid", "the jwt_bearer grant needs a private_key", { field: keyField });
  if (!conn.assertion.sub) {
    throw new TokenSmithError("config_invalid", "the jwt_bearer grant needs assertion.sub (whom the token is for)", {
      field: fieldPath(conn.name, "assertion.sub"),
    });
  }
  const iss = conn.assertion.iss ?? conn.clientId;
  if (!iss) {
    throw new TokenSmithError("config_invalid", "the jwt_bearer grant needs assertion.iss or a client_id", { field: fieldPath(conn.name, "assertion.iss") });
  }
  const signing = loadPrivateKey(conn.privateKey, { field: keyField, alg: conn.assertion.alg, kid: conn.assertion.kid });
  const claims = { ...conn.assertion.claims, iss, sub: conn.assertion.sub, aud: audience(conn, endpoints, true) };
  return signAssertion(claims, signing, { now, ttlMs: conn.assertion.ttlMs, field: keyField });
}

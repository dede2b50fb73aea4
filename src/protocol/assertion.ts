import { createHash, createPrivateKey, randomUUID, X509Certificate, type JsonWebKey, type KeyObject } from "node:crypto";
import { TokenSmithError } from "../errors.js";
import type { AssertionSettings, AuthContext, Endpoints } from "./types.js";
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
  /** Thumbprints of the key's X.509 certificate for the JWT header (RFC 7515 §4.1.7/§4.1.8): `x5t#S256`, and `x5t` (SHA-1) where asked. */
  thumbprints?: { "x5t#S256": string; x5t?: string };
}

/**
 * The header thumbprints of a PEM certificate (Microsoft Entra certificate credentials):
 * base64url SHA-256 (and SHA-1 with `sha1`) of its DER encoding. An unreadable one is a config
 * error naming the field.
 */
export function certificateThumbprints(pem: string, options: { field: string; sha1: boolean }): NonNullable<SigningKey["thumbprints"]> {
  let der: Buffer;
  try {
    der = new X509Certificate(pem.trim()).raw;
  } catch (cause) {
    throw new TokenSmithError("config_invalid", `${options.field} is not a readable X.509 certificate (PEM expected)`, {
      field: options.field,
      hint: "give the certificate's PEM (-----BEGIN CERTIFICATE-----), e.g. certificate: ${file:app.crt}",
      cause,
    });
  }
  const thumb = (alg: string) => createHash(alg).update(der).digest("base64url");
  return options.sha1 ? { "x5t#S256": thumb("sha256"), x5t: thumb("sha1") } : { "x5t#S256": thumb("sha256") };
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
  const header = { alg: signing.alg, ...(signing.kid === undefined ? {} : { kid: signing.kid }), typ: "JWT", ...signing.thumbprints };
  try {
    // jose is loaded only by connections that sign: `tokensmith token` stays fast for the rest.
    const { SignJWT } = await import("jose");
    // nbf as Microsoft Entra's certificate credentials list it; the same instant as iat.
    return await new SignJWT({ ...claims, iat, ...(signing.thumbprints ? { nbf: iat } : {}), exp, jti: randomUUID() }).setProtectedHeader(header).sign(signing.key);
  } catch (cause) {
    throw new TokenSmithError("config_invalid", `cannot sign an assertion with alg ${signing.alg}: the key does not fit it`, {
      field: options.field,
      hint: "check assertion.alg against the key type (RSA: RS256/PS256, EC P-256: ES256, Ed25519: EdDSA)",
      cause,
    });
  }
}

/** What a client assertion (RFC 7523 §2.2) carries besides iss = sub = client_id. */
export interface ClientAssertionOptions {
  /** Lifetime of the assertion, ms. */
  ttlMs: number;
  claims?: Record<string, unknown>;
  /** `aud`; default the issuer when known, else the token URL. */
  aud?: string;
  /** The config field named when signing fails (the key, or the secret). */
  field: string;
  /** The config field named when no audience is known. */
  audienceField: string;
}

/** The audience of a JWT we sign: the configured one, else the issuer when known, else the token URL. */
function audience(aud: string | undefined, endpoints: Endpoints, field: string): string {
  const found = aud ?? endpoints.issuer ?? endpoints.tokenUrl;
  if (!found) throw new TokenSmithError("config_invalid", "no audience for the assertion: no issuer or token_url", { field });
  return found;
}

/** RFC 7523 §2.2 / §3 client assertion: iss = sub = client_id. */
export async function signClientAssertion(clientId: string, signing: SigningKey, options: ClientAssertionOptions, context: AuthContext): Promise<string> {
  const claims = { ...options.claims, iss: clientId, sub: clientId, aud: audience(options.aud, context.endpoints, options.audienceField) };
  return signAssertion(claims, signing, { now: context.now, ttlMs: options.ttlMs, field: options.field });
}

/** The `jwt_bearer` grant's assertion settings (SPEC §1 `assertion`) with the key that signs it. */
export interface GrantAssertionSettings extends AssertionSettings {
  /** PEM or JWK text. */
  privateKey?: string;
  /** The requested scopes, joined: the `scope` claim when `scopeInAssertion` (Google service accounts). */
  scope?: string;
}

/**
 * The RFC 7523 §2.1 authorization grant assertion as a value: signs for `sub`, the identity the
 * token is for. A missing key, subject or issuer is a configuration error naming the field of
 * connection `name`, raised when a request is built.
 */
export function jwtBearerAssertion(name: string, settings: GrantAssertionSettings): (context: AuthContext) => Promise<string> {
  return async (context) => {
    const keyField = fieldPath(name, "private_key");
    if (!settings.privateKey) throw new TokenSmithError("config_invalid", "the jwt_bearer grant needs a private_key", { field: keyField });
    // A service account (scope in the assertion) speaks for itself unless it names a user (domain-wide delegation).
    if (!settings.sub && !settings.scopeInAssertion) {
      throw new TokenSmithError("config_invalid", "the jwt_bearer grant needs assertion.sub (whom the token is for)", { field: fieldPath(name, "assertion.sub") });
    }
    if (!settings.iss) {
      throw new TokenSmithError("config_invalid", "the jwt_bearer grant needs assertion.iss or a client_id", { field: fieldPath(name, "assertion.iss") });
    }
    const signing = loadPrivateKey(settings.privateKey, { field: keyField, alg: settings.alg, kid: settings.kid });
    const scope = settings.scopeInAssertion && settings.scope ? { scope: settings.scope } : {};
    const claims = { ...settings.claims, ...scope, iss: settings.iss, sub: settings.sub, aud: audience(settings.aud, context.endpoints, fieldPath(name, "token_url")) };
    return signAssertion(claims, signing, { now: context.now, ttlMs: settings.ttlMs, field: keyField });
  };
}

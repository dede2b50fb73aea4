import { createHash } from "node:crypto";
import { GRANT_TABLE } from "./grants.js";
import { hashSecret } from "../redact.js";
import type { ResolvedConnection } from "./types.js";

/**
 * The key of a token state (SPEC §2.1). Two connections share tokens exactly when they would
 * ask the same server for the same tokens on behalf of the same identity. Secrets and keys
 * are deliberately left out, so rotating a client secret keeps the login.
 */

/** Characters of the base64url sha256 kept: 192 bits, plenty against collisions, short in keys. */
const FINGERPRINT_LENGTH = 32;
/** Bumped if the canonical form ever changes, so old and new states never collide. */
const FINGERPRINT_VERSION = 1;

/** A URL compared by meaning: lowercase scheme and host, default port dropped, no trailing slash. */
export function normalizeUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value.trim();
  }
  url.hash = "";
  // The URL parser already lowercases scheme and host and drops default ports.
  const path = url.pathname.replace(/\/+$/, "");
  return `${url.protocol}//${url.host}${path}${url.search}`;
}

/** User grants are one family: a login by code or device, or a seeded refresh token, is the same state. */
export function grantFamily(conn: Pick<ResolvedConnection, "grant" | "grantType">): string {
  if (conn.grantType) return `custom:${conn.grantType}`;
  return GRANT_TABLE[conn.grant].family;
}

/**
 * Whose tokens (the grant table's `identity`). For a token exchange, the subject: a hash of
 * the subject token, or the fingerprint of the connection whose token is exchanged, which the
 * caller passes (`subjectFingerprint`) since it takes that connection's settings to compute.
 */
function identity(conn: ResolvedConnection, subjectFingerprint?: string): string | null {
  if (conn.grantType) return conn.account;
  switch (GRANT_TABLE[conn.grant].identity) {
    case "account":
      return conn.account;
    case "username":
      return conn.username ?? null;
    case "assertion.sub":
      // A service account acting as itself (no sub): its identity is the issuer.
      return conn.assertion.sub ?? (conn.assertion.scopeInAssertion && conn.assertion.iss ? `iss:${conn.assertion.iss}` : null);
    case "subject": {
      const subject = conn.tokenExchange?.subject;
      if (!subject) return null;
      return "value" in subject ? `token:${hashSecret(subject.value)}` : `connection:${subjectFingerprint ?? subject.connection}`;
    }
    default:
      return null;
  }
}

const sortedUnique = (items: readonly string[]) => [...new Set(items)].sort();

/** The canonical (key-sorted) description of what a token state is for. */
export function fingerprintInput(conn: ResolvedConnection, subjectFingerprint?: string): Record<string, unknown> {
  const resource = conn.resource === undefined ? null : sortedUnique(typeof conn.resource === "string" ? [conn.resource] : conn.resource);
  const endpoint = conn.tokenUrl ?? conn.issuer ?? conn.discoveryUrl;
  return {
    v: FINGERPRINT_VERSION,
    endpoint: endpoint ? normalizeUrl(endpoint) : null,
    client_id: conn.clientId ?? null,
    family: grantFamily(conn),
    identity: identity(conn, subjectFingerprint),
    scopes: sortedUnique(conn.scopes),
    audience: conn.audience ?? null,
    resource,
    token_params: Object.fromEntries(Object.entries(conn.tokenParams).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
}

/** sha256 (base64url, 32 characters) of the canonical description: the token state's key. */
export function fingerprint(conn: ResolvedConnection, subjectFingerprint?: string): string {
  const canonical = JSON.stringify(fingerprintInput(conn, subjectFingerprint));
  return createHash("sha256").update(canonical).digest("base64url").slice(0, FINGERPRINT_LENGTH);
}

/**
 * A hash of the client's credentials (client id, secret or key, client auth): a remembered
 * `invalid_client` / `unauthorized_client` is keyed with it, so fixing the secret clears it at
 * once and a connection sharing the token state with other credentials is not failed by it.
 */
export function credentialsHash(conn: Pick<ResolvedConnection, "clientId" | "clientSecret" | "privateKey" | "clientAuth" | "basicEncoding">): string {
  return hashSecret(["tokensmith-client-credentials", conn.clientId ?? "", conn.clientSecret ?? "", conn.privateKey ?? "", conn.clientAuth, conn.basicEncoding].join("\0"));
}

import { createHash } from "node:crypto";
import { isUserGrant, type ResolvedConnection } from "./types.js";

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
  return isUserGrant(conn.grant) ? "user" : conn.grant;
}

function identity(conn: ResolvedConnection): string | null {
  if (conn.grantType || isUserGrant(conn.grant)) return conn.account;
  if (conn.grant === "password") return conn.username ?? null;
  if (conn.grant === "jwt_bearer") return conn.assertion.sub ?? null;
  return null;
}

const sortedUnique = (items: readonly string[]) => [...new Set(items)].sort();

/** The canonical (key-sorted) description of what a token state is for. */
export function fingerprintInput(conn: ResolvedConnection): Record<string, unknown> {
  const resource = conn.resource === undefined ? null : sortedUnique(typeof conn.resource === "string" ? [conn.resource] : conn.resource);
  const endpoint = conn.tokenUrl ?? conn.issuer ?? conn.discoveryUrl;
  return {
    v: FINGERPRINT_VERSION,
    endpoint: endpoint ? normalizeUrl(endpoint) : null,
    client_id: conn.clientId ?? null,
    family: grantFamily(conn),
    identity: identity(conn),
    scopes: sortedUnique(conn.scopes),
    audience: conn.audience ?? null,
    resource,
    token_params: Object.fromEntries(Object.entries(conn.tokenParams).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
}

/** sha256 (base64url, 32 characters) of the canonical description: the token state's key. */
export function fingerprint(conn: ResolvedConnection): string {
  const canonical = JSON.stringify(fingerprintInput(conn));
  return createHash("sha256").update(canonical).digest("base64url").slice(0, FINGERPRINT_LENGTH);
}

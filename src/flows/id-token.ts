import type { ResolvedConnection } from "../config/types.js";
import { TokenSmithError } from "../errors.js";
import { parseBody } from "../protocol/response.js";
import { excerpt } from "../redact.js";
import { sendTokenRequest } from "../protocol/send.js";
import type { Endpoints, FetchLike } from "../protocol/types.js";

/**
 * ID token validation at login (OpenID Connect Core §3.1.3.7): issuer, audience (and `azp`),
 * expiry and the nonce this login sent. The signature is checked with the issuer's keys
 * (`jwks_uri` from discovery) or, for HS* tokens, the client secret; without either, the
 * token is trusted as the TLS-protected answer of the token endpoint (§3.1.3.7 item 6) and
 * its claims are still checked. jose is loaded only here, when a login returns an ID token.
 */

/** `error` of the `oauth_error` raised for a token that fails validation. */
export const INVALID_ID_TOKEN = "invalid_id_token";
/** A laptop's clock may be off by a minute; an ID token is checked seconds after it was issued, so this costs nothing. */
export const ID_TOKEN_CLOCK_TOLERANCE_S = 60;
const MS_PER_S = 1000;

/** What the ID token of this login must say. */
export interface IdTokenExpectations {
  connection: string;
  clientId: string;
  /** The issuer as named in messages; undefined when none is known (then `iss` is not compared). */
  issuer?: string;
  isIssuer(iss: string): boolean;
  /** The nonce sent in the authorization request (scope `openid`). */
  nonce?: string;
  /** Epoch ms. */
  now: number;
}

function invalid(expected: Pick<IdTokenExpectations, "connection">, why: string, cause?: unknown): TokenSmithError {
  return new TokenSmithError("oauth_error", `connection "${expected.connection}": the ID token is not valid: ${why}`, {
    connection: expected.connection,
    error: INVALID_ID_TOKEN,
    hint: "check issuer and client_id; the login was not stored",
    cause,
  });
}

/** The claim checks (pure): iss, aud/azp, exp, nonce. */
export function checkIdTokenClaims(claims: Record<string, unknown>, expected: IdTokenExpectations): void {
  if (typeof claims.iss !== "string") throw invalid(expected, "it has no iss");
  if (expected.issuer !== undefined && !expected.isIssuer(claims.iss)) throw invalid(expected, `it was issued by ${excerpt(claims.iss, 200)}, not ${expected.issuer}`);
  const audiences = typeof claims.aud === "string" ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
  if (!audiences.includes(expected.clientId)) throw invalid(expected, "its audience is not this client_id");
  if (audiences.length > 1 && claims.azp !== expected.clientId) throw invalid(expected, "it has several audiences and its azp is not this client_id");
  if (typeof claims.exp !== "number") throw invalid(expected, "it has no exp");
  if ((claims.exp + ID_TOKEN_CLOCK_TOLERANCE_S) * MS_PER_S <= expected.now) throw invalid(expected, "it has expired");
  if (expected.nonce !== undefined && claims.nonce !== expected.nonce) throw invalid(expected, "its nonce is not this login's (replayed or mixed-up response)");
}

async function fetchJwks(conn: ResolvedConnection, jwksUri: string, deps: { fetch: FetchLike; now: () => number; signal?: AbortSignal }) {
  const response = await sendTokenRequest(
    { url: jwksUri, method: "GET", headers: { Accept: "application/json" } },
    { fetch: deps.fetch, timeoutMs: conn.timeoutMs, signal: deps.signal, now: deps.now, what: "JWKS endpoint" },
  );
  const parsed = parseBody(response, "JWKS endpoint");
  if (response.status !== 200 || parsed.kind !== "object" || !Array.isArray(parsed.value.keys)) {
    throw new TokenSmithError("invalid_response", `the issuer's keys at ${jwksUri} are not a JWK set (HTTP ${response.status})`, {
      connection: conn.name,
      url: jwksUri,
      status: response.status,
    });
  }
  return parsed.value as { keys: Record<string, unknown>[] };
}

/** Validates the ID token of a login; throws `oauth_error` (`invalid_id_token`) when it is not valid. */
export async function validateIdToken(
  idToken: string,
  conn: ResolvedConnection,
  endpoints: Endpoints,
  expected: Omit<IdTokenExpectations, "now" | "connection" | "clientId">,
  deps: { fetch: FetchLike; now: () => number; signal?: AbortSignal },
): Promise<void> {
  const jose = await import("jose");
  const base = { ...expected, connection: conn.name, clientId: conn.clientId ?? "", now: deps.now() };
  let alg: string | undefined;
  try {
    alg = jose.decodeProtectedHeader(idToken).alg;
  } catch (cause) {
    throw invalid(base, "it is not a JWT", cause);
  }
  if (!alg || alg === "none") throw invalid(base, "it is unsigned (alg none)");
  let claims: Record<string, unknown>;
  const verifyOptions = { currentDate: new Date(deps.now()), clockTolerance: ID_TOKEN_CLOCK_TOLERANCE_S, algorithms: [alg] };
  try {
    if (alg.startsWith("HS") && conn.clientSecret) {
      claims = (await jose.jwtVerify(idToken, new TextEncoder().encode(conn.clientSecret), verifyOptions)).payload;
    } else if (endpoints.jwksUri) {
      const keys = jose.createLocalJWKSet((await fetchJwks(conn, endpoints.jwksUri, deps)) as Parameters<typeof jose.createLocalJWKSet>[0]);
      claims = (await jose.jwtVerify(idToken, keys, verifyOptions)).payload;
    } else {
      claims = jose.decodeJwt(idToken);
    }
  } catch (cause) {
    if (cause instanceof TokenSmithError) throw cause;
    throw invalid(base, cause instanceof Error && cause.message ? cause.message : "its signature or claims do not verify", cause);
  }
  checkIdTokenClaims(claims, base);
}

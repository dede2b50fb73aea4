import type { ResolvedConnection } from "../config/types.js";
import { TokenSmithError } from "../errors.js";
import type { Endpoints, FetchLike } from "../protocol/types.js";

/**
 * OpenID Connect Core §3.1.3.7: the ID token that comes with an authorization code must be
 * signed by the issuer's keys and name the issuer, this client, a live time window and the
 * nonce sent. jose is loaded only here, when a login actually returns an ID token.
 */

/** Clock skew tolerated on `exp`/`iat`, as in the refresh logic's skew allowance. */
const CLOCK_TOLERANCE_S = 10;

/** Throws `oauth_error` unless `idToken` is valid for this login. */
export async function validateIdToken(
  conn: ResolvedConnection,
  endpoints: Endpoints,
  idToken: string,
  options: { nonce?: string; fetch: FetchLike },
): Promise<void> {
  const issuer = endpoints.issuer ?? conn.issuer;
  if (!issuer || !endpoints.jwksUri || !conn.clientId) {
    // Without the issuer's keys there is nothing to check against; the token came over TLS from the token endpoint.
    return;
  }
  const { createRemoteJWKSet, customFetch, jwtVerify } = await import("jose");
  const keys = createRemoteJWKSet(new URL(endpoints.jwksUri), {
    [customFetch]: (url: string, init: RequestInit) => options.fetch(url, init),
  } as Parameters<typeof createRemoteJWKSet>[1]);
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(idToken, keys, { issuer, audience: conn.clientId, clockTolerance: CLOCK_TOLERANCE_S }));
  } catch (cause) {
    throw new TokenSmithError("oauth_error", `connection "${conn.name}": the ID token is not valid (${(cause as { code?: string }).code ?? "invalid"})`, {
      connection: conn.name,
      hint: "check issuer and client_id; the login was not stored",
      cause,
    });
  }
  if (options.nonce !== undefined && payload.nonce !== options.nonce) {
    throw new TokenSmithError("oauth_error", `connection "${conn.name}": the ID token does not carry the nonce of this login`, {
      connection: conn.name,
      hint: "a replayed or mixed-up authorization response; start the login again",
    });
  }
}

import type { Clock } from "../clock.js";
import type { ResolvedConnection } from "../config/types.js";
import { TokenSmithError } from "../errors.js";
import { configuredEndpoints, discover, resolveEndpoints, type DiscoveryCache, type EndpointName } from "../providers/discovery.js";
import type { Endpoints, FetchLike } from "../protocol/types.js";

/**
 * The endpoints a login needs. Token requests are content with the configured endpoints, but
 * a login with an issuer also wants the metadata: `jwks_uri` to verify the ID token and
 * `authorization_response_iss_parameter_supported` to know `iss` is required (RFC 9207).
 */

export interface LoginEndpointDeps {
  fetch: FetchLike;
  clock: Clock;
  /** Where discovered metadata is shared between processes (the store's, given by the lifecycle). */
  metadataCache?: DiscoveryCache;
  warn(message: string): void;
}

/** The endpoints for a browser/manual login or a device login, discovered when an issuer is known. */
export async function loginEndpoints(conn: ResolvedConnection, flow: "authorization_code" | "device", deps: LoginEndpointDeps): Promise<Endpoints> {
  const need: EndpointName[] = ["tokenUrl", flow === "device" ? "deviceAuthorizationUrl" : "authorizationUrl"];
  const discovery = { fetch: deps.fetch, now: () => deps.clock.now(), cache: deps.metadataCache };
  if (!conn.issuer && !conn.discoveryUrl) return resolveEndpoints(conn, discovery, need);
  let endpoints: Endpoints;
  try {
    endpoints = await discover(conn, discovery);
  } catch (err) {
    const configured = configuredEndpoints(conn);
    // A configuration error (issuer mismatch) is never papered over; an unreachable metadata document is, when nothing is missing.
    if (!need.every((name) => configured[name]) || (err instanceof TokenSmithError && err.code === "config_invalid")) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    deps.warn(`connection "${conn.name}": the issuer's metadata could not be read (${reason}); logging in without it, so the ID token's signature is not checked`);
    return configured;
  }
  if (need.some((name) => !endpoints[name])) return resolveEndpoints(conn, discovery, need);
  return endpoints;
}

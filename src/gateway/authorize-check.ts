import { isLoopbackHost } from "../config/urls.js";
import type { ResolvedConnection } from "../config/types.js";
import type { Connection } from "../lifecycle/connection.js";
import { internals } from "../lifecycle/handle.js";

/**
 * Whether the dashboard can authorize a connection in the browser (SPEC §5): the connection
 * must get its tokens from a person (authorization code), and its redirect URI must be the
 * gateway's own `/callback`. A redirect URI elsewhere (a registered web app, another port)
 * cannot reach the gateway; that is `tokensmith login NAME --manual`'s job.
 */

/** Whether the dashboard can authorize a connection: with which redirect URI, or why not. */
export type BrowserAuthorization =
  | { available: true; redirectUri: string }
  /** `manual`: the command that can authorize it instead, when a person can but the dashboard cannot. */
  | { available: false; reason: string; manual?: string };

/** RFC 8252 §7.3: a loopback redirect URI without a port matches any port. */
function pointsAtGateway(configured: URL, callback: URL): boolean {
  if (configured.protocol !== callback.protocol || configured.pathname !== callback.pathname) return false;
  const sameHost = configured.hostname === callback.hostname || (isLoopbackHost(configured.hostname) && isLoopbackHost(callback.hostname));
  if (!sameHost) return false;
  return configured.port === callback.port || (configured.port === "" && configured.protocol === "http:" && isLoopbackHost(configured.hostname));
}

/** The redirect URI the gateway would use for `conn`, or why it cannot authorize it. */
export function redirectFor(conn: ResolvedConnection, callbackUrl: string): BrowserAuthorization {
  const name = conn.name;
  if (conn.grant !== "authorization_code" && !(conn.grant === "refresh_token" && conn.authorizationUrl)) {
    return { available: false, reason: `grant ${conn.grantType ?? conn.grant} gets its tokens without a browser` };
  }
  if (!conn.authorizationUrl && !conn.issuer && !conn.discoveryUrl) {
    return { available: false, reason: "no authorization_url (or issuer) is configured" };
  }
  if (!conn.redirectUri) return { available: true, redirectUri: callbackUrl };
  const configured = new URL(conn.redirectUri);
  const callback = new URL(callbackUrl);
  if (!pointsAtGateway(configured, callback)) {
    return {
      available: false,
      reason: `its redirect_uri (${configured.origin}${configured.pathname}) is not this gateway's ${callbackUrl}`,
      manual: `tokensmith login ${name} --manual`,
    };
  }
  // Keep the registered spelling, but on the gateway's port.
  if (configured.port === "") configured.port = callback.port;
  return { available: true, redirectUri: configured.toString() };
}

/** `redirectFor` for a connection by name; one whose settings don't resolve is not available. */
export async function browserAuthorization(connection: Connection, callbackUrl: string): Promise<BrowserAuthorization> {
  try {
    const { conn } = await internals(connection).setup();
    return redirectFor(conn, callbackUrl);
  } catch (err) {
    return { available: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

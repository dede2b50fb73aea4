import type { IncomingMessage, ServerResponse } from "node:http";
import { connectionFor, type ApiDeps } from "./api.js";
import type { Principal } from "./auth.js";
import { TokenSmithError } from "../errors.js";
import { GatewayError } from "./errors.js";
import { proxy } from "./proxy.js";

/**
 * `ANY /proxy/NAME/PATH?QUERY` on the gateway (SPEC §5): a gateway key allowed the connection
 * (a dashboard session may not: the route is for tools, and a browser's cookie is no key), then
 * the proxy to the connection's `base_url`. Errors are thrown for the handler's JSON answer.
 */
/** The proxy route's 401: it names only what works there, an API key (a dashboard session does not). */
export function proxyNeedsKey(): GatewayError {
  return new GatewayError(401, "unauthorized", "the proxy route needs an API key", "send Authorization: Bearer <key> with a key from gateway.api_keys or the gateway's key file");
}

export async function proxyRoute(deps: ApiDeps, principal: Principal, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (principal.via !== "key") throw proxyNeedsKey();
  const match = /^\/proxy\/([^/]+)(\/.*)?$/.exec(url.pathname);
  if (!match) throw new GatewayError(404, "not_found", "no connection named in the proxy path", "use /proxy/NAME/PATH");
  const name = decodeURIComponent(match[1]);
  const connection = connectionFor(deps, principal, name);
  try {
    await proxy({ connection, path: match[2] ?? "", search: url.search, prefix: `/proxy/${match[1]}`, metrics: deps.metrics.proxy }, req, res);
  } catch (err) {
    // Every answer about the connection names it, as the `/v1` routes' do.
    throw err instanceof TokenSmithError ? err.withConnection(connection.name) : err;
  }
}

import { TokenSmithError } from "../errors.js";
import type { ApiAnswer } from "./api-routes.js";
import type { Principal } from "./auth.js";
import { errorResponse, GatewayError } from "./errors.js";
import type { GatewayReload } from "./reload.js";

/**
 * `POST /v1/reload` (the dashboard's Reload): re-read the config. Only a principal that may see
 * every connection may reload (a key limited to some connections is 403: the config is the
 * operator's, and a reload changes what every other key and session sees). A config that does
 * not validate is 422 with the usual error document (field and hint), and the gateway goes on
 * with the config it had. Answer: docs/schemas/gateway-reload.schema.json.
 */

/** The config problems a reload reports as 422: the request was fine, the file is not. */
const REFUSED = new Set(["config_invalid", "config_untrusted"]);

export async function answerReload(deps: { reload(): Promise<GatewayReload> }, principal: Principal): Promise<ApiAnswer> {
  if (principal.connections) {
    throw new GatewayError(403, "forbidden", "a key limited to some connections cannot reload the gateway's config", "use a key without `connections` in gateway.api_keys, or send SIGHUP to tokensmith serve");
  }
  let reload: GatewayReload;
  try {
    reload = await deps.reload();
  } catch (err) {
    if (err instanceof TokenSmithError && REFUSED.has(err.code)) return { status: 422, body: errorResponse(err).body };
    throw err;
  }
  return { status: 200, body: { reloaded: true, added: reload.added, removed: reload.removed, changed: reload.changed, api_keys_changed: reload.api_keys_changed, warnings: reload.warnings } };
}

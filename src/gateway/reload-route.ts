import { TokenSmithError } from "../errors.js";
import type { ApiAnswer } from "./api-routes.js";
import { mayUse, type Principal } from "./auth.js";
import { errorResponse } from "./errors.js";
import type { GatewayReload } from "./reload.js";

/**
 * `POST /v1/reload` (the dashboard's Reload): re-read the config. The answer names only the
 * connections the caller may see. A config that does not validate is 422 with the usual error
 * document (field and hint), and the gateway goes on with the config it had.
 */

/** The config problems a reload reports as 422: the request was fine, the file is not. */
const REFUSED = new Set(["config_invalid", "config_untrusted"]);

export async function answerReload(deps: { reload(): Promise<GatewayReload> }, principal: Principal): Promise<ApiAnswer> {
  let reload: GatewayReload;
  try {
    reload = await deps.reload();
  } catch (err) {
    if (err instanceof TokenSmithError && REFUSED.has(err.code)) return { status: 422, body: errorResponse(err).body };
    throw err;
  }
  const visible = (names: string[]) => names.filter((name) => mayUse(principal, name));
  return {
    status: 200,
    body: { reloaded: true, added: visible(reload.added), removed: visible(reload.removed), changed: visible(reload.changed), warnings: reload.warnings },
  };
}

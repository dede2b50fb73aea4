import { revokeJson } from "../lifecycle/documents.js";
import { parseLimit, requestLogJson } from "../lifecycle/request-log.js";
import type { Principal } from "./auth.js";
import { connectionFor, listStatuses, logSeenBy, parseMinTtl, statusOf, tokenOf, type ApiDeps } from "./api.js";
import { GatewayError } from "./errors.js";

/**
 * The `/v1` JSON API (SPEC §5). Dashboard sessions may do everything here except read a
 * token: the dashboard never shows one, so a browser session that leaks cannot either. The
 * request log (`/log`) holds no secret: sessions read it for the dashboard's panel.
 */

/** One API answer: status and JSON body. */
export interface ApiAnswer {
  status: number;
  body: unknown;
}

const ACTIONS = new Set(["refresh", "test", "revoke"]);

function methodNotAllowed(allowed: string): GatewayError {
  return new GatewayError(405, "method_not_allowed", `use ${allowed} here`);
}

function truthy(value: string | null): boolean {
  return value !== null && value !== "0" && value !== "false";
}

/** Answers `method path?query` under `/v1/connections`, or throws (GatewayError / TokenSmithError). */
export async function answerApi(deps: ApiDeps, principal: Principal, method: string, url: URL): Promise<ApiAnswer> {
  const parts = url.pathname.split("/").slice(3).map((p) => decodeURIComponent(p));
  if (parts.length === 0 || (parts.length === 1 && parts[0] === "")) {
    if (method !== "GET") throw methodNotAllowed("GET");
    return { status: 200, body: await listStatuses(deps, principal) };
  }
  const [name, action, ...rest] = parts;
  if (!name || rest.length > 0) throw new GatewayError(404, "not_found", `no route ${url.pathname}`);
  if (action === undefined) {
    if (method !== "GET") throw methodNotAllowed("GET");
    return { status: 200, body: await statusOf(deps, connectionFor(deps, principal, name), principal) };
  }
  if (action === "token") {
    if (method !== "GET") throw methodNotAllowed("GET");
    if (principal.via !== "key") {
      throw new GatewayError(403, "forbidden", "the dashboard session cannot read tokens", "use an API key: Authorization: Bearer <key>");
    }
    const connection = connectionFor(deps, principal, name);
    return { status: 200, body: await tokenOf(deps, connection, { minTtl: parseMinTtl(url.searchParams.get("min_ttl")) }) };
  }
  if (action === "log") {
    if (method !== "GET") throw methodNotAllowed("GET");
    const connection = connectionFor(deps, principal, name);
    const log = await connection.history({ limit: parseLimit(url.searchParams.get("limit") ?? undefined, "limit", name) });
    return { status: 200, body: requestLogJson(logSeenBy(log, principal)) };
  }
  if (!ACTIONS.has(action)) throw new GatewayError(404, "not_found", `no route ${url.pathname}`, "actions: token, log, refresh, test, revoke");
  if (method !== "POST") throw methodNotAllowed("POST");
  const connection = connectionFor(deps, principal, name);
  switch (action) {
    case "refresh":
      // Not counted as a token served: the refresh counter (from the store) sees it.
      await connection.token({ forceRefresh: true });
      return { status: 200, body: await statusOf(deps, connection, principal) };
    case "test": {
      // The dashboard's Test asks again at once, and its hints name the dashboard's buttons;
      // an API key asks again with `?force_refresh=1`.
      const dashboard = principal.via !== "key";
      return { status: 200, body: await connection.test({ forceRefresh: dashboard || truthy(url.searchParams.get("force_refresh")), hints: dashboard ? "dashboard" : "cli" }) };
    }
    default: {
      const only = url.searchParams.get("only");
      if (only !== null && only !== "refresh_token" && only !== "access_token") {
        throw new GatewayError(400, "bad_request", `only must be refresh_token or access_token (got "${only.slice(0, 20)}")`);
      }
      const result = await connection.revoke({ only: only ?? undefined, force: truthy(url.searchParams.get("force")) });
      return { status: 200, body: revokeJson(connection.name, result) };
    }
  }
}

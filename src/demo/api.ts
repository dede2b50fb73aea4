import type { IncomingMessage, ServerResponse } from "node:http";
import type { Artifact, Provider } from "oidc-provider";
import { readBody, sendJson } from "./http.js";
import { type DemoStats, countApiCall } from "./stats.js";

/**
 * The protected API tokensmith calls in the demo and in tests. It accepts only a bearer token
 * (in the Authorization header, never in the URL) that this server issued and that is still
 * valid: it looks the token up in the provider's store, so an expired, revoked or unknown
 * token gets 401 with `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3.1).
 *
 *   GET  /api/whoami            who the token is for
 *   GET  /api/items?page=N      a paginated list (`next` link in the body and a Link header)
 *   GET  /api/admin             needs scope `api:write`, else 403 insufficient_scope
 *   POST /api/echo              echoes the request body (replay after a 401)
 */

/** Where the API lives on the demo server (same origin as the issuer, like many real APIs). */
export const API_PATH = "/api";
const REALM = "tokensmith-demo";
/** Items in the list: three pages at the default page size, the last one partial. */
const TOTAL_ITEMS = 12;
const DEFAULT_PAGE_SIZE = 5;
const MAX_PAGE_SIZE = 50;
/** The scope /api/admin demands: lets tests see 403 insufficient_scope, which must never trigger a refresh. */
export const ADMIN_SCOPE = "api:write";

type Outcome = "ok" | "missing_token" | "invalid_request" | "invalid_token" | "insufficient_scope" | "not_found" | "method_not_allowed";

function challenge(error?: string, description?: string, scope?: string): string {
  const parts = [`realm="${REALM}"`];
  if (error) parts.push(`error="${error}"`);
  if (description) parts.push(`error_description="${description}"`);
  if (scope) parts.push(`scope="${scope}"`);
  return `Bearer ${parts.join(", ")}`;
}

/** RFC 6750 §2.1 b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * oidc-provider keeps `exp` in whole seconds (iat is floored), so a "2 s" token would die up
 * to a second before the `expires_in` it was issued with says. Real lifetimes are long enough
 * for that not to matter; the tests' 2-second tokens are not. So the API judges expiry by the
 * demo storage instead, which expires each token exactly `expires_in` after it was issued
 * (millisecond precision); revoked tokens are gone from it at once.
 */
async function findToken(provider: Provider, value: string): Promise<Artifact | undefined> {
  const options = { ignoreExpiration: true };
  return (await provider.AccessToken.find(value, options)) ?? (await provider.ClientCredentials.find(value, options));
}

/** What the API needs: the provider to look tokens up, stats to count calls. */
export interface ApiOptions {
  provider: Provider;
  stats: DemoStats;
  /** The API's base URL, for absolute `next` links. */
  apiUrl: string;
}

/** Handles `/api/...`; false for other paths. */
export function apiRoutes({ provider, stats, apiUrl }: ApiOptions) {
  return async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (url.pathname !== API_PATH && !url.pathname.startsWith(`${API_PATH}/`)) return false;
    const done = (outcome: Outcome, status: number, body: unknown, headers?: Record<string, string>) => {
      countApiCall(stats, outcome);
      sendJson(res, status, body, headers);
      return true;
    };

    const header = req.headers.authorization;
    if (!header || !/^bearer\b/i.test(header)) {
      return done("missing_token", 401, { error: "missing_token" }, { "www-authenticate": challenge() });
    }
    const match = BEARER.exec(header);
    if (!match) {
      return done("invalid_request", 400, { error: "invalid_request" }, { "www-authenticate": challenge("invalid_request", "malformed bearer token") });
    }
    const token = await findToken(provider, match[1]);
    if (!token) {
      const description = "the access token is expired, revoked or unknown";
      return done("invalid_token", 401, { error: "invalid_token", error_description: description }, { "www-authenticate": challenge("invalid_token", description) });
    }

    const route = url.pathname.slice(API_PATH.length) || "/";
    const scopes = new Set((token.scope ?? "").split(" ").filter(Boolean));
    const allow = (method: string) => req.method === method || done("method_not_allowed", 405, { error: "method_not_allowed" }, { allow: method });

    switch (route) {
      case "/whoami":
        return (
          allow("GET") === true &&
          done("ok", 200, {
            sub: token.accountId ?? null,
            client_id: token.clientId,
            scope: token.scope ?? "",
            grant: token.gty ?? (token.kind === "ClientCredentials" ? "client_credentials" : null),
            expires_at: token.exp ?? null,
          })
        );
      case "/items": {
        if (allow("GET") !== true) return true;
        const page = Math.max(1, Number.parseInt(url.searchParams.get("page") ?? "1", 10) || 1);
        const perPage = Math.min(MAX_PAGE_SIZE, Math.max(1, Number.parseInt(url.searchParams.get("per_page") ?? "", 10) || DEFAULT_PAGE_SIZE));
        const start = (page - 1) * perPage;
        const items = Array.from({ length: Math.max(0, Math.min(perPage, TOTAL_ITEMS - start)) }, (_, i) => ({ id: start + i + 1, name: `Item ${start + i + 1}` }));
        const next = start + perPage < TOTAL_ITEMS ? `${apiUrl}/items?page=${page + 1}&per_page=${perPage}` : null;
        return done("ok", 200, { items, page, per_page: perPage, total: TOTAL_ITEMS, next }, next ? { link: `<${next}>; rel="next"` } : {});
      }
      case "/admin":
        if (allow("GET") !== true) return true;
        if (!scopes.has(ADMIN_SCOPE)) {
          return done("insufficient_scope", 403, { error: "insufficient_scope" }, { "www-authenticate": challenge("insufficient_scope", `requires scope ${ADMIN_SCOPE}`, ADMIN_SCOPE) });
        }
        return done("ok", 200, { ok: true, sub: token.accountId ?? null, client_id: token.clientId });
      case "/echo": {
        if (req.method !== "POST" && req.method !== "PUT") return done("method_not_allowed", 405, { error: "method_not_allowed" }, { allow: "POST, PUT" });
        const body = await readBody(req);
        return done("ok", 200, { method: req.method, content_type: req.headers["content-type"] ?? null, body });
      }
      default:
        return done("not_found", 404, { error: "not_found" });
    }
  };
}

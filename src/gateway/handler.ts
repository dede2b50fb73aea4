import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { answerApi } from "./api-routes.js";
import { connectionFor, type ApiDeps } from "./api.js";
import { secretEquals, type ApiKeys, type Principal, type Sessions } from "./auth.js";
import type { BrowserAuthorizations } from "./authorize.js";
import { toTokenSmithError, type TokenSmithError } from "../errors.js";
import { errorResponse, GatewayError, sendError } from "./errors.js";
import { parseCookies, readBody, redirect, sendHtml, sendJson, sendText } from "./http.js";
import { dashboardPage, DASHBOARD_CSP, messagePage, PAGE_CSP, signInPage } from "./pages.js";
import { proxyNeedsKey, proxyRoute } from "./proxy-route.js";
import { answerReload } from "./reload-route.js";
import type { GatewayReload } from "./reload.js";

/**
 * The gateway's request handler: the Host check first (DNS rebinding), then who is asking
 * (bearer key or session cookie), CSRF for session POSTs, then the route. Every route but
 * `/healthz`, `/login` (it spends a one-time ticket) and `/callback` (bound to its
 * authorization by `state`) needs a key or a session.
 */

/** Everything the request handler works with; built once by `startGateway`. */
export interface HandlerDeps extends ApiDeps {
  keys: ApiKeys;
  sessions: Sessions;
  authorizations: BrowserAuthorizations;
  /** True when the Host header names the bound address. */
  hostAllowed(host: string | undefined): boolean;
  /** The gateway's origin, e.g. http://127.0.0.1:7373. */
  baseUrl: string;
  tls: boolean;
  /** The `/metrics` text. */
  metricsText(principal: Principal): Promise<string>;
  /** Re-reads the config (`Gateway.reload`). */
  reload(): Promise<GatewayReload>;
  /** Told of every request answered with a 500 (`GatewayOptions.onError`). */
  onError(error: TokenSmithError, request: { method: string; path: string }): void;
}

/** The session cookie's name carries the port: cookies are shared by every port of a host. */
export function cookieName(baseUrl: string): string {
  return `tokensmith_session_${new URL(baseUrl).port || "default"}`;
}

const CSRF_HEADER = "x-csrf-token";

/** Bearer key if the request has an Authorization header (valid or not), else the session cookie. */
function authenticate(deps: HandlerDeps, req: IncomingMessage): Principal {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const principal = deps.keys.authenticate(header);
    if (!principal) throw new GatewayError(401, "unauthorized", "the API key is not valid", "send Authorization: Bearer <key> with a key from gateway.api_keys or the gateway's key file");
    return principal;
  }
  const principal = deps.sessions.authenticate(parseCookies(req.headers.cookie).get(cookieName(deps.baseUrl)));
  if (!principal) throw new GatewayError(401, "unauthorized", "an API key or a dashboard session is needed", "send Authorization: Bearer <key>, or sign in with the one-time URL `tokensmith serve` printed");
  return principal;
}

/** The dashboard's session cookie: script-proof, same-site only, HTTPS-only under TLS. */
function sessionCookie(deps: HandlerDeps, id: string): string {
  return `${cookieName(deps.baseUrl)}=${id}; Path=/; HttpOnly; SameSite=Strict${deps.tls ? "; Secure" : ""}`;
}

/** A session's POST must come from this origin and carry its CSRF token (header or form field). */
async function checkCsrf(deps: HandlerDeps, req: IncomingMessage, principal: Principal): Promise<void> {
  if (principal.via !== "session") return;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `${deps.tls ? "https" : "http"}://${req.headers.host}`) {
    throw new GatewayError(403, "csrf_failed", "cross-origin request refused");
  }
  let given = req.headers[CSRF_HEADER];
  if (given === undefined && (req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
    const body = await readBody(req).catch(() => {
      throw new GatewayError(413, "bad_request", "request body too large");
    });
    given = new URLSearchParams(body).get("csrf") ?? undefined;
  }
  if (typeof given !== "string" || !secretEquals(given, principal.csrf ?? "")) {
    throw new GatewayError(403, "csrf_failed", "this request lacks the dashboard's CSRF token", "reload the dashboard");
  }
}

/** Browser-facing routes answer errors with a page, not JSON. */
function sendPageError(res: ServerResponse, err: unknown): void {
  const { status, body } = errorResponse(err);
  const e = body.error as { message: string; hint: string | null };
  sendHtml(res, status, messagePage(status === 401 ? "Sign in" : "That did not work", e.message, { hint: e.hint ?? undefined, link: status !== 401 }), PAGE_CSP);
}

async function route(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const method = req.method ?? "GET";
  const path = url.pathname;
  if (path === "/healthz") return sendJson(res, 200, { status: "ok" });
  if (path === "/login") {
    const session = deps.sessions.redeem(url.searchParams.get("token") ?? "");
    if (!session) {
      // A browser already signed in (it opened this URL before) just goes on to the dashboard.
      if (deps.sessions.authenticate(parseCookies(req.headers.cookie).get(cookieName(deps.baseUrl)))) return redirect(res, "/");
      return sendHtml(res, 401, messagePage("Sign in", "This sign-in URL is unknown, expired (they last 5 minutes) or was already used: each one works once.", { hint: "ask for a fresh one: restart `tokensmith serve`, or POST /v1/sign-in with an API key" }), PAGE_CSP);
    }
    return redirect(res, "/", { "set-cookie": sessionCookie(deps, session.id) });
  }
  if (path === "/callback") {
    try {
      const name = await deps.authorizations.finish(url.searchParams);
      return sendHtml(res, 200, messagePage("Authorized", `Connection ${name} is authorized; its tokens are stored.`, { link: `/?authorized=${encodeURIComponent(name)}` }), PAGE_CSP);
    } catch (err) {
      return sendPageError(res, err);
    }
  }
  const browser = path === "/" || path.startsWith("/authorize/");
  let principal: Principal;
  try {
    principal = authenticate(deps, req);
  } catch (err) {
    if (path === "/") return sendHtml(res, 401, signInPage(), PAGE_CSP);
    if (browser) return sendPageError(res, err);
    // No key at all: the proxy's own hint, as a dashboard session would not do there either.
    if (path.startsWith("/proxy/") && req.headers.authorization === undefined) throw proxyNeedsKey();
    throw err;
  }
  // The data gateway (SPEC §5): before the CSRF check, as only a key may use it (no session, no body read here).
  if (path.startsWith("/proxy/")) return proxyRoute(deps, principal, req, res, url);
  if (method !== "GET" && method !== "HEAD") await checkCsrf(deps, req, principal);
  if (path === "/") {
    if (principal.via === "session") return sendHtml(res, 200, dashboardPage(principal.csrf!, deps.baseUrl), DASHBOARD_CSP);
    // A key holder may do all the dashboard does: the page comes with a session of the key's
    // reach, since the page's own requests carry the cookie, not the key.
    if (method !== "GET" && method !== "HEAD") throw new GatewayError(405, "method_not_allowed", "use GET here");
    const session = deps.sessions.forKey(principal.key!, principal.connections);
    return sendHtml(res, 200, dashboardPage(session.csrf, deps.baseUrl), DASHBOARD_CSP, { "set-cookie": sessionCookie(deps, session.id) });
  }
  if (path.startsWith("/authorize/")) {
    try {
      const connection = connectionFor(deps, principal, decodeURIComponent(path.slice("/authorize/".length)));
      return redirect(res, await deps.authorizations.start(connection));
    } catch (err) {
      return sendPageError(res, err);
    }
  }
  if (path === "/metrics") {
    if (method !== "GET") throw new GatewayError(405, "method_not_allowed", "use GET here");
    return sendText(res, 200, await deps.metricsText(principal), "text/plain; version=0.0.4; charset=utf-8");
  }
  if (path === "/v1/sign-in") {
    if (method !== "POST") throw new GatewayError(405, "method_not_allowed", "use POST here");
    if (principal.via !== "key") throw new GatewayError(403, "forbidden", "new sign-in URLs need an API key");
    return sendJson(res, 200, { url: `${deps.baseUrl}/login?token=${deps.sessions.issueTicket(principal.connections)}` });
  }
  if (path === "/v1/reload") {
    if (method !== "POST") throw new GatewayError(405, "method_not_allowed", "use POST here");
    const answer = await answerReload(deps, principal);
    return sendJson(res, answer.status, answer.body);
  }
  if (path === "/v1/connections" || path.startsWith("/v1/connections/")) {
    const answer = await answerApi(deps, principal, method, url);
    return sendJson(res, answer.status, answer.body);
  }
  throw new GatewayError(404, "not_found", `no route ${method} ${path}`, "see GET /v1/connections");
}

/** The request listener for `listen()`. */
export function createHandler(deps: HandlerDeps): RequestListener {
  return (req, res) => {
    const unauthorized = { "www-authenticate": 'Bearer realm="tokensmith"' };
    if (!deps.hostAllowed(req.headers.host)) {
      sendError(res, new GatewayError(403, "host_not_allowed", "this Host is not the gateway's address", `use ${deps.baseUrl}`));
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? "/", deps.baseUrl);
      decodeURIComponent(url.pathname);
    } catch {
      sendError(res, new GatewayError(400, "bad_request", "malformed request URL"));
      return;
    }
    route(deps, req, res, url).catch((err: unknown) => {
      const status = errorResponse(err).status;
      // The path only: a query string may carry a sign-in ticket.
      if (status === 500) {
        try {
          deps.onError(toTokenSmithError(err), { method: req.method ?? "GET", path: url.pathname });
        } catch {
          // A failing logger must not take the answer (or the process) down with it.
        }
      }
      if (res.headersSent) return void res.destroy();
      sendError(res, err, status === 401 ? unauthorized : {});
    });
  };
}

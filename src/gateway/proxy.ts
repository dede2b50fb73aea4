import type { IncomingMessage, ServerResponse } from "node:http";
import { TokenSmithError } from "../errors.js";
import { AuthorizedCall } from "../http/call.js";
import { unreachable } from "../http/fetch.js";
import { checkOrigin, tokenHeader } from "../http/origins.js";
import type { Route } from "../http/transport.js";
import type { Connection } from "../lifecycle/connection.js";
import { internals, type ConnectionHandle } from "../lifecycle/handle.js";
import { DROPPED_SOCKET, errorCode } from "../network-errors.js";
import type { ConnectionSetup } from "../lifecycle/runtime.js";
import type { ProxyMetrics, ProxyRow } from "./proxy-metrics.js";
import { exchange, type Answer, type Body } from "./proxy-upstream.js";

/**
 * The data gateway (SPEC §5 `ANY /proxy/NAME/PATH`, `tokensmith proxy NAME`): a reverse proxy
 * to a connection's `base_url` that carries the token, so a tool that knows nothing of OAuth
 * (a BI tool, a spreadsheet, curl, Python) calls the API through it.
 *
 * - The request goes to `base_url` + PATH + query with the connection's token in its `header`;
 *   the client's own `Authorization` (the gateway key), its cookies, the token header's name
 *   and hop-by-hop headers are dropped.
 * - Requests go out on the connection's undici dispatcher (transport.ts `route`): kept-alive
 *   connections, its proxy settings and `tls` material, bodies never decoded (proxy-upstream.ts).
 * - Bodies stream both ways with backpressure (constant memory). A request body of up to
 *   `REPLAY_LIMIT` is held so it can be sent again after a 401 (one refresh, SPEC §2.11) or a
 *   429/503 (`api_retry`); a larger one streams as it arrives, and its 401 goes back to the
 *   client with the refused token invalidated, so the next request gets a fresh one.
 * - A request cut by a reset or closed socket before any answer came (a kept-alive socket the
 *   API had closed) is sent once more, on a fresh connection, when its body is held or absent.
 *   undici itself drops a socket whose answer came before the request body was all sent, or
 *   that said `Connection: close`: such a socket is never reused.
 * - Responses pass through untouched, but for hop-by-hop headers, `Set-Cookie` (the API's
 *   cookies would land on the gateway's origin, beside its session cookie; the client's own
 *   never reach the API either) and a `Location` (or `Link` target) into `base_url`, rewritten
 *   to the proxy path, so the client's next request comes back through the proxy.
 *   Redirects are never followed: one elsewhere goes back as it is, and the token with it never.
 * - Failures are the gateway's JSON errors: 409 reauthorization_required, 502 oauth_error,
 *   503 lock_timeout/store_error, 504 network_error/timeout (thrown, for the caller to send).
 */

/** Request bodies up to this size are held for a replay after a 401 (SPEC §5). */
export const REPLAY_LIMIT = 1024 * 1024;

/** RFC 9110 §7.6.1 hop-by-hop headers, and others that describe this hop only. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "expect", "host"]);
/** Request headers the API never sees: the gateway key, the client's cookies. */
const CLIENT_ONLY = new Set(["authorization", "cookie", "content-length"]);
/** Response headers the client never sees: the API's cookies (they would be set on the gateway's origin). */
const API_ONLY = new Set(["set-cookie", "set-cookie2"]);
const NONE: ReadonlySet<string> = new Set();

/** One proxied request: the connection, the part of the path after the proxy's prefix, and where the proxy lives. */
export interface ProxyRequest {
  connection: Connection;
  /** The path after the proxy's own prefix, as the client sent it (percent-encoded), "" or starting with "/". */
  path: string;
  /** The query string with its "?", or "". */
  search: string;
  /** The proxy's path for this connection ("/proxy/NAME" on the gateway, "" for `tokensmith proxy`). */
  prefix: string;
  metrics: ProxyMetrics;
}

/** What every request of one connection shares: worked out at its first request, then reused. */
interface Upstream {
  base: URL;
  /** `base_url`'s path without its trailing slashes. */
  basePath: string;
  route: Route;
}

/** By the connection's resolved settings (one object per setup). */
const upstreams = new WeakMap<object, Promise<Upstream>>();

function upstreamOf(setup: ConnectionSetup): Promise<Upstream> {
  let found = upstreams.get(setup.conn);
  if (!found) {
    found = (async () => {
      const base = baseUrlOf(setup.conn);
      checkOrigin(setup.conn, base);
      return { base, basePath: base.pathname.replace(/\/+$/, ""), route: await setup.route(base) };
    })();
    upstreams.set(setup.conn, found);
    found.catch(() => upstreams.delete(setup.conn));
  }
  return found;
}

/** Proxies `req` and answers on `res`; rejects (before any answer) with an error for the gateway's JSON shape. */
export async function proxy(target: ProxyRequest, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // The connection's engine, as the undici and axios adapters reach it.
  const connection = internals(target.connection);
  const setup = await connection.setup();
  const row = target.metrics.row(setup.conn.name);
  try {
    await proxied(target, connection, setup, row, req, res);
  } catch (err) {
    // Every answer the gateway gives itself is counted (`class="error"`): no base_url, a path
    // out of it, no token, the API unreachable.
    row.failed();
    throw err;
  }
}

async function proxied(target: ProxyRequest, connection: ConnectionHandle, setup: ConnectionSetup, row: ProxyRow, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { conn, clock } = setup;
  const up = await upstreamOf(setup);
  const path = upstreamPath(up, target.path, target.search, conn.name);
  const url = () => new URL(`${up.base.origin}${path}`);
  const method = (req.method ?? "GET").toUpperCase();
  const body = await readBody(req);
  const settings = { conn, clock };
  const request = { method, replayable: body.kind !== "stream" };
  const cached = connection.cachedToken();
  const call = cached !== undefined ? AuthorizedCall.with(connection, settings, request, cached) : await AuthorizedCall.start(connection, settings, request);
  const headers = requestHeaders(req, conn.header.name, body);
  const uploaded = (n: number) => row.uploaded(n);
  let resent = false;
  for (;;) {
    const [name, value] = tokenHeader(conn, call.token);
    headers[name.toLowerCase()] = value;
    const started = performance.now();
    let answer: Answer;
    try {
      answer = await exchange(up.route.dispatcher, { origin: up.base.origin, path, method, headers, body, timeoutMs: conn.timeoutMs, uploaded });
    } catch (err) {
      // No answer came (`exchange` rejects only before the head): a kept-alive socket the API
      // had closed, its close crossing this request. Once more, on a fresh connection, if the
      // body can be sent again; nothing has reached the client yet.
      if (!resent && body.kind !== "stream" && DROPPED_SOCKET.has(errorCode(err) ?? "")) {
        resent = true;
        continue;
      }
      throw unreachable(up.route.failure(err), url(), conn);
    }
    row.latency((performance.now() - started) / 1000);
    const status = answer.status;
    const header = (h: string) => answer.header(h);
    if (call.mayRetry(status, header)) {
      const delay = await call.next(status, header).catch((err: unknown) => {
        answer.discard();
        throw err;
      });
      if (delay !== undefined) {
        answer.discard();
        if (status === 401) row.recovered();
        await call.wait(delay, clientGone(res));
        continue;
      }
    }
    // A 401 passed through (its body was not replayable): its token is gone before the client can ask again.
    if (call.dropping) await call.dropping;
    row.answered(status);
    // The API's side may have broken while a refresh or a dropped token was awaited: the gateway's error then.
    return answer.forward(res, responseHeaders(answer.headers, { base: up.base, target: url, prefix: target.prefix }), (n) => row.downloaded(n)).catch((err: unknown) => {
      throw unreachable(up.route.failure(err), url(), conn);
    });
  }
}

/** A signal that aborts when the client goes away (made only for a wait: an abort costs a stack trace). */
function clientGone(res: ServerResponse): AbortSignal {
  const gone = new AbortController();
  if (res.destroyed) gone.abort();
  else res.once("close", () => void (res.writableFinished || gone.abort()));
  return gone.signal;
}

/** The connection's `base_url`, or a usage error naming the field. */
function baseUrlOf(conn: { name: string; baseUrl?: string }): URL {
  if (!conn.baseUrl) {
    throw new TokenSmithError("usage_error", `connection "${conn.name}" has no base_url to proxy to`, {
      connection: conn.name,
      field: `connections.${conn.name}.base_url`,
      hint: "set base_url to the API's base URL, e.g. base_url: https://api.example.com/v1",
    });
  }
  return new URL(conn.baseUrl);
}

/**
 * A path that needs no normalizing: segments of plain URL characters, none of them `.` or
 * `..` (nor percent-encoded ones), no backslash. Most requests are such, and go without a URL parse.
 */
const PLAIN_PATH = /^(?:\/(?!\.{1,2}(?:\/|$))(?![^/]*%2e)[A-Za-z0-9\-._~!$&'()*+,;=:@%]*)*$/i;

/** The path and query to send: `base_url`'s path + path + query, checked by `targetUrl` unless plainly inside it. */
function upstreamPath(up: Upstream, path: string, search: string, name: string): string {
  if (PLAIN_PATH.test(path) && !search.includes("#")) return `${up.basePath}${path}` ? `${up.basePath}${path}${search}` : `/${search}`;
  const url = targetUrl(up.base, path, search, name);
  return `${url.pathname}${url.search}`;
}

/** `base_url` + path + query; a path that climbs out of `base_url`'s path is refused. */
export function targetUrl(base: URL, path: string, search: string, name: string): URL {
  const basePath = base.pathname.replace(/\/+$/, "");
  const url = new URL(`${base.origin}${basePath}${path.startsWith("/") || path === "" ? path : `/${path}`}${search}`);
  if (url.origin !== base.origin || (url.pathname !== basePath && !url.pathname.startsWith(`${basePath}/`))) {
    throw new TokenSmithError("usage_error", `the proxy path leaves connection "${name}"'s base_url`, { connection: name, hint: "call paths under base_url only" });
  }
  return url;
}

/** The request body: none, held in memory (≤ REPLAY_LIMIT, replayable), or streaming from here on. */
function readBody(req: IncomingMessage): Promise<Body> {
  const length = req.headers["content-length"];
  const chunked = req.headers["transfer-encoding"] !== undefined;
  if (!chunked && (length === undefined || length === "0")) return Promise.resolve({ kind: "none", length: length === "0" ? "0" : undefined });
  if (!chunked && Number(length) > REPLAY_LIMIT) return Promise.resolve({ kind: "stream", head: [], rest: req });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size <= REPLAY_LIMIT) return;
      req.pause();
      done();
      resolve({ kind: "stream", head: chunks, rest: req });
    };
    const onEnd = () => {
      done();
      resolve({ kind: "held", data: Buffer.concat(chunks, size) });
    };
    const onError = (err: Error) => {
      done();
      reject(new TokenSmithError("network_error", `the client's request body broke off: ${err.message}`));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}

/** Names listed in a `Connection` header are hop-by-hop too (RFC 9110 §7.6.1). */
function connectionTokens(value: string | string[] | undefined): ReadonlySet<string> {
  // Most clients send just these: no header named (keep-alive is hop-by-hop anyway).
  if (value === undefined || value === "keep-alive" || value === "close") return NONE;
  const text = Array.isArray(value) ? value.join(",") : value;
  return new Set(
    text
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
}

/** The client's headers minus this hop's, the gateway key, cookies and any header of the token's name. */
function requestHeaders(req: IncomingMessage, tokenName: string, body: Body): Record<string, string | string[]> {
  const listed = connectionTokens(req.headers.connection);
  const token = tokenName.toLowerCase();
  const out: Record<string, string | string[]> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (HOP_BY_HOP.has(name) || CLIENT_ONLY.has(name) || listed.has(name) || name === token) continue;
    const prior = out[name];
    out[name] = prior === undefined ? raw[i + 1] : [...(Array.isArray(prior) ? prior : [prior]), raw[i + 1]];
  }
  if (body.kind === "held") out["content-length"] = String(body.data.length);
  else if (body.kind === "none" && body.length) out["content-length"] = "0";
  else if (body.kind === "stream" && req.headers["content-length"] !== undefined && req.headers["transfer-encoding"] === undefined) out["content-length"] = req.headers["content-length"];
  return out;
}

/** The API's headers for the client: hop-by-hop and cookies dropped, `Location` and `Link` targets into `base_url` rewritten. */
function responseHeaders(raw: string[], where: Where): string[] {
  let listed: ReadonlySet<string> = NONE;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 10 && raw[i].toLowerCase() === "connection") listed = connectionTokens(raw[i + 1]);
  const headers: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (HOP_BY_HOP.has(name) || API_ONLY.has(name) || listed.has(name)) continue;
    const value = name === "location" ? proxiedLocation(raw[i + 1], where) : name === "link" ? raw[i + 1].replace(/<([^>]*)>/g, (_, u: string) => `<${proxiedLocation(u, where)}>`) : raw[i + 1];
    headers.push(raw[i], value);
  }
  return headers;
}

/** Where a response's URLs are resolved: the request's URL (made only when one is there). */
interface Where {
  base: URL;
  target: URL | (() => URL);
  prefix: string;
}

/**
 * A `Location` into `base_url` as the proxy's own path (so the client's next request comes
 * back through the proxy); any other location as it is: the client may follow it, without
 * the token, which only the proxy holds.
 */
export function proxiedLocation(value: string, where: Where): string {
  let url: URL;
  try {
    url = new URL(value, typeof where.target === "function" ? where.target() : where.target);
  } catch {
    return value;
  }
  const basePath = where.base.pathname.replace(/\/+$/, "");
  if (url.origin !== where.base.origin || (url.pathname !== basePath && !url.pathname.startsWith(`${basePath}/`))) return value;
  const rest = url.pathname.slice(basePath.length) || "/";
  return `${where.prefix}${rest}${url.search}${url.hash}`;
}

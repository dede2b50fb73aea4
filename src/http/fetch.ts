import type { Clock } from "../clock.js";
import { TokenSmithError, networkError, timeoutError } from "../errors.js";
import { classifyNetworkError } from "../network-errors.js";
import type { FetchLike } from "../protocol/types.js";
import { redact } from "../redact.js";
import { AuthorizedCall, type HttpSettings, type TokenProvider } from "./call.js";
import type { CallOptions } from "./call-options.js";
import { checkOrigin, describeUrl, RedirectChain, tokenHeader } from "./origins.js";

/** `RequestInit` plus tokensmith's per-call options (`retry`). */
export interface AuthorizedInit extends RequestInit, CallOptions {}

/** @internal Redirects followed by hand (so the token never crosses origins), as browsers cap them. */
export const MAX_REDIRECTS = 20;

/** @internal A body that can be sent twice (a stream cannot: no retry after a 401 then). */
export function isReplayable(body: RequestInit["body"]): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === "string" ||
    body instanceof URLSearchParams ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof Blob ||
    body instanceof FormData
  );
}

/**
 * `fetch` with the connection's token (SPEC §2.11, §2.13): the token goes only in the header,
 * only to the origin called (redirects to other origins are followed without it), a 401
 * invalidates exactly that token and retries once with a fresh one when the body replays, and
 * `api_retry` (or `init.retry`) retries 429/503 after `Retry-After`.
 * @internal
 */
export async function authorizedFetch(
  source: TokenProvider,
  settings: { conn: HttpSettings; clock: Clock; fetch: FetchLike },
  input: string | URL,
  init: AuthorizedInit = {},
): Promise<Response> {
  const url = new URL(input);
  checkOrigin(settings.conn, url);
  const { retry, ...requestInit } = init;
  const request = { method: init.method ?? "GET", replayable: isReplayable(init.body), retry };
  const cached = source.cachedToken?.();
  const call = cached !== undefined ? AuthorizedCall.with(source, settings, request, cached) : await AuthorizedCall.start(source, settings, request);
  for (;;) {
    const response = await sendFollowingRedirects(settings.conn, settings.fetch, url, requestInit, call.token);
    const header = (name: string) => response.headers.get(name);
    if (!call.mayRetry(response.status, header)) {
      if (call.dropping) await call.dropping;
      return response;
    }
    const delay = await call.next(response.status, header);
    if (delay === undefined) return response;
    await response.body?.cancel();
    await call.wait(delay, init.signal ?? undefined);
  }
}

/** Headers that describe a request body: dropped with the body when a redirect turns a POST into a GET. */
const CONTENT_HEADERS = ["content-type", "content-length", "content-encoding", "content-language", "content-location"];

async function sendFollowingRedirects(conn: HttpSettings, fetchImpl: FetchLike, start: URL, init: RequestInit, token: string): Promise<Response> {
  return followRedirects(conn, fetchImpl, start, init, tokenHeader(conn, token), (err, hop) => unreachable(err, hop, conn, init.signal));
}

/**
 * Sends `init` to `start` and follows its redirects by hand (`redirect: "manual"` on every
 * hop), with `header` (the token's) only on the hops that may carry it (SPEC §2.13): the first
 * origin, until a hop leaves it. `init.redirect` "manual" hands a redirect back, "error"
 * rejects it. Shared by `connection.fetch` and the axios fetch adapter. A failed send is
 * rethrown as `fail` makes it (as it is without one).
 * @internal
 */
export async function followRedirects(
  conn: HttpSettings,
  fetchImpl: FetchLike,
  start: URL,
  init: RequestInit,
  header: [string, string],
  fail: (err: unknown, hop: URL) => unknown = (err) => err,
): Promise<Response> {
  const chain = new RedirectChain(conn, start);
  const [name, value] = header;
  let url = start;
  let method = (init.method ?? "GET").toUpperCase();
  let body = init.body;
  for (let hop = 0; ; hop++) {
    const headers = new Headers(init.headers);
    if (body === undefined && init.body !== undefined) for (const key of CONTENT_HEADERS) headers.delete(key);
    if (chain.hop(url)) headers.set(name, value);
    else headers.delete(name);
    let response: Response;
    try {
      response = await fetchImpl(url.href, { ...init, method, body, headers, redirect: "manual" });
    } catch (err) {
      throw fail(err, url);
    }
    const location = response.headers.get("location");
    if (response.status < 300 || response.status >= 400 || !location || init.redirect === "manual") return response;
    if (init.redirect === "error") {
      throw new TokenSmithError("http_error", `${describeUrl(url)} redirected (${response.status}) and redirect is "error"`, { status: response.status, connection: conn.name });
    }
    if (hop >= MAX_REDIRECTS) {
      throw new TokenSmithError("http_error", `too many redirects from ${describeUrl(start)}`, { status: response.status, connection: conn.name });
    }
    await response.body?.cancel();
    url = new URL(location, url);
    // As fetch does: 303 (and 301/302 after POST) become GET without a body.
    if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === "POST")) {
      method = method === "HEAD" ? "HEAD" : "GET";
      body = undefined;
    }
  }
}

/** @internal A failed send as a TokenSmithError (`network_error`, `timeout`); the caller's own abort stays as it is. */
export function unreachable(err: unknown, url: URL, conn: { name: string }, signal?: AbortSignal | null): unknown {
  if (err instanceof TokenSmithError || signal?.aborted) return err;
  const failure = classifyNetworkError(err);
  const target = { url: describeUrl(url), connection: conn.name, cause: err };
  if (failure.kind === "timeout") return timeoutError(target, { code: failure.code });
  return networkError(target, failure.code ? failure.reason : redact(failure.reason));
}

import type { ResolvedConnection } from "../config/types.js";
import { TokenSmithError } from "../errors.js";
import type { FetchLike } from "../protocol/types.js";

/** The part of a connection the HTTP layer uses; adapters (undici, axios) use the same. */
export interface TokenProvider {
  readonly name: string;
  token(options?: { rejectHash?: string; forceRefresh?: boolean }): Promise<{ accessToken: string }>;
  invalidate(token: string): Promise<string>;
  isDead(token: string): Promise<boolean>;
  markDead(token: string): Promise<void>;
}

/** Redirects followed by hand (so the token never crosses origins), as browsers cap them. */
export const MAX_REDIRECTS = 20;

/** The header that carries `token`, from the connection's `header` template. */
export function tokenHeader(conn: Pick<ResolvedConnection, "header">, token: string): [string, string] {
  return [conn.header.name, conn.header.value.split("{token}").join(token)];
}

/** Refuse to send the token where it must not go (SPEC §2.13). */
export function checkOrigin(conn: Pick<ResolvedConnection, "name" | "allowedOrigins">, url: URL): void {
  if (!/^https?:$/.test(url.protocol)) {
    throw new TokenSmithError("usage_error", `unsupported URL scheme in ${url.origin}${url.pathname}`, { connection: conn.name });
  }
  if (conn.allowedOrigins && !conn.allowedOrigins.some((origin) => new URL(origin).origin === url.origin)) {
    throw new TokenSmithError("usage_error", `connection "${conn.name}" may not send its token to ${url.origin}`, {
      connection: conn.name,
      field: `connections.${conn.name}.allowed_origins`,
      hint: `add ${url.origin} to allowed_origins if this API should receive the token`,
    });
  }
}

/** A body that can be sent twice (a stream cannot: no retry after a 401 then). */
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
 * only to the origin called (redirects to other origins are followed without it), and a 401
 * invalidates exactly that token and retries once with a fresh one when the body replays.
 */
export async function authorizedFetch(
  source: TokenProvider,
  conn: Pick<ResolvedConnection, "name" | "header" | "allowedOrigins">,
  fetchImpl: FetchLike,
  input: string | URL,
  init: RequestInit = {},
): Promise<Response> {
  const url = new URL(input);
  checkOrigin(conn, url);
  const first = await source.token();
  const response = await sendFollowingRedirects(conn, fetchImpl, url, init, first.accessToken);
  if (response.status !== 401 || !isReplayable(init.body) || (await source.isDead(first.accessToken))) return response;
  await response.body?.cancel();
  const rejectHash = await source.invalidate(first.accessToken);
  const fresh = await source.token({ rejectHash });
  const retried = await sendFollowingRedirects(conn, fetchImpl, url, init, fresh.accessToken);
  // A fresh token refused too: the API does not want this token at all. Don't refresh again.
  if (retried.status === 401) await source.markDead(fresh.accessToken);
  return retried;
}

async function sendFollowingRedirects(
  conn: Pick<ResolvedConnection, "header">,
  fetchImpl: FetchLike,
  start: URL,
  init: RequestInit,
  token: string,
): Promise<Response> {
  const origin = start.origin;
  let url = start;
  let method = (init.method ?? "GET").toUpperCase();
  let body = init.body;
  // Once a redirect leaves the origin, the token stays off for the rest of the chain.
  let crossed = false;
  for (let hop = 0; ; hop++) {
    crossed ||= url.origin !== origin;
    const headers = new Headers(init.headers);
    const [name, value] = tokenHeader(conn, token);
    if (crossed) headers.delete(name);
    else headers.set(name, value);
    const response = await fetchImpl(url.href, { ...init, method, body, headers, redirect: "manual" });
    const location = response.headers.get("location");
    if (response.status < 300 || response.status >= 400 || !location || init.redirect === "manual") return response;
    if (init.redirect === "error") throw new TokenSmithError("http_error", `redirected to ${location}`, { status: response.status });
    if (hop >= MAX_REDIRECTS) {
      throw new TokenSmithError("http_error", `too many redirects from ${start.origin}${start.pathname}`, { status: response.status });
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

import type { ResolvedConnection } from "../config/types.js";
import { isLoopbackHost } from "../config/urls.js";
import { TokenSmithError } from "../errors.js";

/**
 * Where a token may go (SPEC §2.13): only in a header, only to `allowed_origins` when set, and
 * never to another origin reached by a redirect — not even back to the first origin once a
 * redirect has left it, since the chain is then steered by a server we never chose to trust.
 */

/** The last header built per `header` template: one token serves thousands of requests, so build its string once. */
const built = new WeakMap<ResolvedConnection["header"], { token: string; header: [string, string] }>();

/** The header that carries `token`, from the connection's `header` template. */
export function tokenHeader(conn: Pick<ResolvedConnection, "header">, token: string): [string, string] {
  const last = built.get(conn.header);
  if (last?.token === token) return last.header;
  const header: [string, string] = [conn.header.name, conn.header.value.split("{token}").join(token)];
  built.set(conn.header, { token, header });
  return header;
}

/**
 * Refuse to send the token where it must not go: not http(s), plain http to a host other than
 * loopback (unless `allow_insecure_http`), or outside `allowed_origins` (normalized origins).
 * `fullUrl` gives the whole URL for messages when `url` is only its origin.
 */
export function checkOrigin(conn: Pick<ResolvedConnection, "name" | "allowedOrigins" | "allowInsecureHttp">, url: URL, fullUrl: () => URL = () => url): void {
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new TokenSmithError("usage_error", `unsupported URL scheme in ${url.protocol}//${url.host}${url.pathname}`, { connection: conn.name });
  }
  if (url.protocol === "http:" && !conn.allowInsecureHttp && !isLoopbackHost(url.hostname)) {
    const shown = describeUrl(fullUrl());
    throw new TokenSmithError("usage_error", `connection "${conn.name}" will not send its token over plain http to ${shown}`, {
      connection: conn.name,
      field: `connections.${conn.name}.allow_insecure_http`,
      url: shown,
      hint: "use https; plain http is allowed only to loopback (127.0.0.1, ::1, localhost), or with allow_insecure_http: true on the connection if this network really is trusted",
    });
  }
  if (conn.allowedOrigins && !conn.allowedOrigins.includes(url.origin)) {
    throw new TokenSmithError("usage_error", `connection "${conn.name}" may not send its token to ${url.origin}`, {
      connection: conn.name,
      field: `connections.${conn.name}.allowed_origins`,
      hint: `add ${url.origin} to allowed_origins if this API should receive the token`,
    });
  }
}

/**
 * One redirect chain, hop by hop: says whether each hop may carry the token. The first URL is
 * the one the caller chose; once a hop leaves its origin, the token stays off to the end.
 */
export class RedirectChain {
  private crossed = false;
  readonly origin: string;

  constructor(
    private readonly conn: Pick<ResolvedConnection, "allowedOrigins">,
    first: URL,
  ) {
    this.origin = first.origin;
  }

  /** Record the next hop; true when it may carry the token. */
  hop(url: URL): boolean {
    this.crossed ||= url.origin !== this.origin;
    return !this.crossed && this.allowed(url);
  }

  /** True while no hop has left the first origin. */
  get intact(): boolean {
    return !this.crossed;
  }

  private allowed(url: URL): boolean {
    return !this.conn.allowedOrigins || this.conn.allowedOrigins.includes(url.origin);
  }
}

/** A URL fit for messages: no query string or fragment, which may hold keys or personal data. */
export function describeUrl(url: URL | string): string {
  const u = typeof url === "string" ? new URL(url) : url;
  return `${u.origin}${u.pathname}`;
}

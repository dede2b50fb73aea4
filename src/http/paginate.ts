import { JSONPath } from "jsonpath-plus";
import type { ResolvedConnection } from "../config/types.js";
import { TokenSmithError } from "../errors.js";
import { excerpt } from "../redact.js";
import type { CallOptions } from "./call-options.js";
import type { AuthorizedInit } from "./fetch.js";
import { describeUrl } from "./origins.js";

/**
 * Every record of a paginated API, page after page (`tokensmith call --paginate`,
 * `connection.paginate`). Three ways to find the next page: the `Link: <...>; rel="next"`
 * header (RFC 8288; the default), a JSONPath to the next page's URL in the body, or a JSONPath
 * to a cursor sent back as a query parameter. Pages are fetched one at a time, with the
 * connection's token and 401 recovery; records are handed out as each page arrives, so a
 * failure on page 7 leaves the caller with pages 1–6 and a clear error.
 */
export interface PaginateOptions extends CallOptions {
  /** Picks a page's records, e.g. `$.items[*]` (a path to one array yields its elements). Default: the page itself when it is an array, else the page as one record. */
  jsonpath?: string;
  /** JSONPath to the next page's URL in the body (absolute, or relative to the page), e.g. `$.next`. */
  next?: string;
  /** JSONPath to a cursor in the body, sent as query parameter `param` on the first URL, e.g. `{ param: "cursor", jsonpath: "$.meta.next_cursor" }`. */
  cursor?: { param: string; jsonpath: string };
  /** Stop after this many pages. */
  maxPages?: number;
  /** Method, headers, signal of each page request. */
  init?: RequestInit;
  /** Called (and awaited) after each page arrives, before its records are handed out: progress, logging. */
  onPage?: (page: { number: number; url: string; records: number }) => void | Promise<void>;
  /** Told when paging stops for a reason other than the last page (a next link back to a page already fetched). */
  onWarning?: (message: string) => void;
}

/** @internal What paginate needs of a connection; `Connection` is one. */
export interface PageSource {
  fetch(input: string | URL, init?: AuthorizedInit): Promise<Response>;
  setup(): Promise<{ conn: Pick<ResolvedConnection, "name" | "allowedOrigins"> }>;
}

/** @internal Yields every record of every page, in order. */
export async function* paginate<T = unknown>(source: PageSource, input: string | URL, options: PaginateOptions = {}): AsyncGenerator<T, void, undefined> {
  const { conn } = await source.setup();
  const first = new URL(input);
  const seen = new Set<string>();
  let url: URL | undefined = first;
  for (let number = 1; url; number++) {
    seen.add(url.href);
    const response = await source.fetch(url, { ...options.init, retry: options.retry });
    const text = await response.text();
    if (!response.ok) {
      throw new TokenSmithError("http_error", `page ${number} of ${describeUrl(first)}: the API answered ${response.status}${text ? `: ${excerpt(text)}` : ""}`, {
        connection: conn.name,
        status: response.status,
        url: describeUrl(url),
        hint: number > 1 ? `the records of pages 1–${number - 1} were delivered before the failure` : undefined,
      });
    }
    const body = parsePage(text, number, url, conn.name);
    const records = pickRecords(body, options.jsonpath, conn.name);
    await options.onPage?.({ number, url: url.href, records: records.length });
    for (const record of records) yield record as T;
    if (options.maxPages !== undefined && number >= options.maxPages) return;
    const next = nextPage(first, url, response.headers, body, options, conn.name);
    if (!next) return;
    if (seen.has(next.href)) {
      // A next page we have already fetched: the server is going round in circles; stop.
      options.onWarning?.(`page ${number} of ${describeUrl(first)} points back to a page already fetched; paging stopped there`);
      return;
    }
    if (next.origin !== first.origin && !conn.allowedOrigins?.includes(next.origin)) {
      throw new TokenSmithError("usage_error", `page ${number} of ${describeUrl(first)} points to another origin (${next.origin}); the token is not sent there`, {
        connection: conn.name,
        field: `connections.${conn.name}.allowed_origins`,
        hint: `add ${next.origin} to allowed_origins if it should receive the token`,
      });
    }
    url = next;
  }
}

/** @internal The `rel="next"` target of a Link header (RFC 8288), or undefined. */
export function nextLink(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  for (const [, target, params] of header.matchAll(/<([^>]*)>([^<]*)/g)) {
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params);
    const rels = (rel?.[1] ?? rel?.[2] ?? "").toLowerCase().split(/\s+/);
    if (rels.includes("next")) return target;
  }
  return undefined;
}

/** @internal A page's records: the JSONPath's matches, one array match flattened. */
export function pickRecords(body: unknown, jsonpath: string | undefined, connection?: string): unknown[] {
  if (body === undefined) return [];
  if (!jsonpath) return Array.isArray(body) ? body : [body];
  if (body === null || typeof body !== "object") return [];
  const found = jsonPathMatches(jsonpath, body, "--jsonpath", connection);
  return found.length === 1 && Array.isArray(found[0]) ? found[0] : found;
}

function nextPage(first: URL, page: URL, headers: Headers, body: unknown, options: PaginateOptions, connection: string): URL | undefined {
  if (options.cursor) {
    const cursor = firstMatch(body, options.cursor.jsonpath, "cursor", connection);
    if (cursor === undefined || cursor === null || cursor === "" || cursor === false || typeof cursor === "object") return undefined;
    const next = new URL(first);
    next.searchParams.set(options.cursor.param, String(cursor));
    return next;
  }
  const target = options.next ? firstMatch(body, options.next, "next", connection) : nextLink(headers.get("link"));
  if (typeof target !== "string" || target === "") return undefined;
  if (!URL.canParse(target, page)) {
    throw new TokenSmithError("invalid_response", `page of ${describeUrl(first)} names a next page that is not a URL: ${excerpt(target, 80)}`, { connection });
  }
  return new URL(target, page);
}

function firstMatch(body: unknown, path: string, what: string, connection: string): unknown {
  if (body === null || typeof body !== "object") return undefined;
  return jsonPathMatches(path, body, what, connection)[0];
}

/** Every match of a user's JSONPath (`--jsonpath`, `--columns`), scripts never run; a bad one is a usage error naming `what`. */
export function jsonPathMatches(path: string, json: object, what: string, connection?: string): unknown[] {
  try {
    // eval: false — expressions come from the user, but scripts in them are never run (docs/decisions.md).
    return JSONPath({ path, json, wrap: true, eval: false }) as unknown[];
  } catch (cause) {
    throw new TokenSmithError("usage_error", `${what} is not a usable JSONPath expression: ${path}`, { connection, hint: "e.g. $.items[*] or $.data.next", cause });
  }
}

function parsePage(text: string, number: number, url: URL, connection: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new TokenSmithError("invalid_response", `page ${number} (${describeUrl(url)}) is not JSON: ${excerpt(text, 80)}`, { connection, url: describeUrl(url), cause });
  }
}

import { readFile } from "node:fs/promises";
import { TokenSmithError } from "../errors.js";

/**
 * Turning `tokensmith call`'s curl-like arguments into a request (SPEC §3): `[METHOD] URL` or
 * `-X METHOD`, a URL relative to `base_url`, `-H 'K: V'`, `-d DATA`, `-d @FILE`, `-d @-`,
 * `--data-urlencode`, `-G`. Bodies are read whole, so they can be replayed after a 401.
 */

export interface CallRequest {
  method: string;
  url: URL;
  headers: Headers;
  body?: Uint8Array<ArrayBuffer>;
}

/** RFC 9110 token: what a method or a header name may be made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * `call NAME URL` or `call NAME METHOD URL`, or `-X METHOD` instead of the positional one; the
 * method defaults to GET, or POST with a body (as curl's). `target` is the URL as written:
 * absolute, or relative to the connection's `base_url` ({@link resolveTarget}).
 */
export function methodAndTarget(
  first: string,
  second: string | undefined,
  options: { hasBody: boolean; method?: string; get?: boolean; name?: string },
): { method: string; target: string } {
  const name = options.name ?? "NAME";
  if (second !== undefined && looksLikeTarget(first) && TOKEN.test(second)) {
    throw usage(`the method goes before the URL, not after it`, `write it as: tokensmith call ${name} ${second.toUpperCase()} ${first} (or -X ${second.toUpperCase()})`);
  }
  if (second === undefined && !isAbsoluteUrl(first) && METHOD.test(first)) {
    throw usage(`no URL after ${first.toUpperCase()}`, `write it as: tokensmith call ${name} ${first.toUpperCase()} https://api.example.com/items`);
  }
  const positional = second === undefined ? undefined : first.toUpperCase();
  const flag = options.method?.toUpperCase();
  if (positional !== undefined && flag !== undefined && positional !== flag) {
    throw usage(`two methods given: ${positional} before the URL and -X ${flag}`, "give one of them");
  }
  const method = flag ?? positional ?? (options.hasBody && !options.get ? "POST" : "GET");
  if (!TOKEN.test(method)) throw usage(`"${flag !== undefined ? options.method : first}" is not an HTTP method`, "e.g. tokensmith call NAME POST https://api.example.com/items");
  return { method, target: second ?? first };
}

/**
 * The URL to call: `target` when it is an absolute http(s) URL, else `target` appended to the
 * connection's `base_url` (`/items` and `items` both give `<base_url>/items`, keeping the
 * base's path, as `gh api` and httpie sessions do, not the browser rule that drops it, and its
 * query).
 */
export function resolveTarget(target: string, baseUrl: string | undefined, name = "NAME"): URL {
  if (isAbsoluteUrl(target)) return new URL(target);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) throw usage(`"${target}" is not an http(s) URL`, "give an https URL, or a path relative to the connection's base_url");
  if (baseUrl !== undefined) {
    const base = new URL(baseUrl);
    const joined = `${base.origin}${base.pathname.replace(/\/+$/, "")}/${target.replace(/^\/+/, "")}`;
    if (URL.canParse(joined)) {
      const url = new URL(joined);
      // A query on the base (Azure's `?api-version=...`) goes on every call, before the call's own.
      if (base.search) url.search = `${base.search.slice(1)}${url.search ? `&${url.search.slice(1)}` : ""}`;
      return url;
    }
    throw usage(`"${target}" does not make a URL with base_url ${base.origin}${base.pathname}`, "give a path such as /items?page=2");
  }
  // curl would guess http://; a token must not go out over a guessed scheme, so say what to write.
  const looksLikeHost = /^(?:localhost|[\w-]+(?:\.[\w-]+)+)(?::\d+)?(?:[/?#]|$)/i.test(target) && !/^https?:/i.test(target) && URL.canParse(`https://${target}`);
  const hint = looksLikeHost
    ? `did you mean https://${target} ?`
    : `give the full URL (e.g. https://api.example.com/items), or set base_url on connection ${name} to call paths like /items`;
  throw usage(`"${target}" is not an absolute http(s) URL${looksLikeHost ? "" : ` and connection ${name} has no base_url`}`, hint);
}

/** Methods a URL-less `call NAME WORD` most likely meant (anything else is taken for a bad URL). */
const METHOD = /^(?:get|head|post|put|patch|delete|options|trace)$/i;

/** An absolute http(s) URL: the only kind an API call (and a token) goes to. */
function isAbsoluteUrl(text: string): boolean {
  return /^https?:\/\//i.test(text) && URL.canParse(text);
}

/** An absolute URL or a path: what comes after the method, never before it. */
function looksLikeTarget(text: string): boolean {
  return isAbsoluteUrl(text) || text.startsWith("/");
}

/** `-H 'Name: value'` flags as Headers; a malformed one is a usage error. */
export function parseHeaders(lines: string[]): Headers {
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = colon < 0 ? "" : line.slice(0, colon).trim();
    if (!TOKEN.test(name)) throw usage(`-H "${line}" is not a header`, "write it as -H 'Name: value'");
    headers.append(name, line.slice(colon + 1).trim());
  }
  return headers;
}

/** One `-d` or `--data-urlencode`, in the order given on the command line. */
export interface DataItem {
  kind: "data" | "urlencode";
  value: string;
}

/**
 * The request body from every `-d` and `--data-urlencode`: one `-d` is sent byte for byte;
 * several items are joined with `&`, as curl joins them (`-d a=1 -d b=2` sends `a=1&b=2`).
 */
export async function readAllData(data: DataItem[] | undefined, stdin: NodeJS.ReadableStream): Promise<Uint8Array<ArrayBuffer> | undefined> {
  if (!data?.length) return undefined;
  if (data.length === 1 && data[0].kind === "data") return readData(data[0].value, stdin);
  const parts: Buffer[] = [];
  for (const [i, item] of data.entries()) {
    if (i > 0) parts.push(Buffer.from("&"));
    parts.push(Buffer.from(item.kind === "data" ? (await readData(item.value, stdin))! : await urlEncodeItem(item.value, stdin)));
  }
  return Buffer.concat(parts);
}

/**
 * One `--data-urlencode`, as curl reads it: `content` and `=content` send the content
 * percent-encoded; `name=content` sends `name=` and the encoded content; `@FILE` and
 * `name@FILE` the same with the file's content (`@-`: standard input). The name is sent as
 * written.
 */
export async function urlEncodeItem(value: string, stdin: NodeJS.ReadableStream): Promise<string> {
  const at = value.search(/[=@]/);
  if (at < 0) return percentEncode(value);
  const name = value.slice(0, at);
  const content = value[at] === "@" ? Buffer.from((await readData(value.slice(at), stdin, "--data-urlencode"))!).toString("utf8") : value.slice(at + 1);
  return name ? `${name}=${percentEncode(content)}` : percentEncode(content);
}

/** RFC 3986 percent-encoding: everything but ALPHA, DIGIT and `-._~` (a space is %20), as curl encodes. */
function percentEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The bytes of one `-d`: the text itself, `@FILE`'s content, or `@-` for standard input. */
export async function readData(data: string | undefined, stdin: NodeJS.ReadableStream, flag = "-d"): Promise<Uint8Array<ArrayBuffer> | undefined> {
  if (data === undefined) return undefined;
  if (data === "@-") {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
    return Buffer.concat(chunks);
  }
  if (data.startsWith("@")) {
    const path = data.slice(1);
    try {
      return await readFile(path);
    } catch (err) {
      throw usage(`cannot read ${flag} @${path} (${(err as NodeJS.ErrnoException).code ?? "error"})`, `check the path; ${flag} @- reads standard input`, err);
    }
  }
  return Buffer.from(data, "utf8");
}

/**
 * A Content-Type when the user gave none: JSON for a body that parses as JSON, else curl's
 * form encoding.
 */
export function defaultContentType(body: Uint8Array): string {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8").trim();
  if (text.startsWith("{") || text.startsWith("[")) {
    try {
      JSON.parse(text);
      return "application/json";
    } catch {
      // not JSON after all
    }
  }
  return "application/x-www-form-urlencoded";
}

/** What `tokensmith call` was given, before the connection is known. */
export interface CallArgs {
  name?: string;
  first: string;
  second?: string;
  /** `-X METHOD`. */
  method?: string;
  header: string[];
  data?: DataItem[];
  /** `-G`: the data goes into the query string of a GET instead of the body. */
  get?: boolean;
}

/**
 * The whole request from the command's arguments. `baseUrl` is asked for only when the URL is
 * relative (it resolves the connection's settings).
 */
export async function buildRequest(args: CallArgs, stdin: NodeJS.ReadableStream, baseUrl: () => Promise<string | undefined> = async () => undefined): Promise<CallRequest> {
  const { method, target } = methodAndTarget(args.first, args.second, { hasBody: !!args.data?.length, method: args.method, get: args.get, name: args.name });
  const headers = parseHeaders(args.header);
  const url = resolveTarget(target, isAbsoluteUrl(target) ? undefined : await baseUrl(), args.name);
  const data = await readAllData(args.data, stdin);
  if (args.get) {
    // curl -G: the data, as written, after the URL's own query.
    if (data?.length) url.search = `${url.search ? `${url.search.slice(1)}&` : ""}${Buffer.from(data).toString("utf8")}`;
    return { method, url, headers };
  }
  if (data && !headers.has("content-type")) headers.set("content-type", defaultContentType(data));
  return { method, url, headers, body: data };
}

function usage(message: string, hint: string, cause?: unknown): TokenSmithError {
  return new TokenSmithError("usage_error", message, { hint, cause });
}

import { readFile } from "node:fs/promises";
import { TokenSmithError } from "../errors.js";

/**
 * Turning `tokensmith call`'s curl-like arguments into a request (SPEC §3): `[METHOD] URL`,
 * `-H 'K: V'`, `-d DATA`, `-d @FILE`, `-d @-`. Bodies are read whole, so they can be replayed
 * after a 401.
 */

export interface CallRequest {
  method: string;
  url: URL;
  headers: Headers;
  body?: Uint8Array<ArrayBuffer>;
}

/** RFC 9110 token: what a method or a header name may be made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** `call NAME URL` or `call NAME METHOD URL`; the method defaults to GET, or POST with a body (as curl's). */
export function methodAndUrl(first: string, second: string | undefined, hasBody: boolean, name = "NAME"): { method: string; url: URL } {
  if (second !== undefined && isAbsoluteUrl(first) && TOKEN.test(second)) {
    throw usage(`the method goes before the URL, not after it`, `write it as: tokensmith call ${name} ${second.toUpperCase()} ${first}`);
  }
  if (second === undefined && !isAbsoluteUrl(first) && METHOD.test(first)) {
    throw usage(`no URL after ${first.toUpperCase()}`, `write it as: tokensmith call ${name} ${first.toUpperCase()} https://api.example.com/items`);
  }
  const [method, target] = second === undefined ? [hasBody ? "POST" : "GET", first] : [first.toUpperCase(), second];
  if (!TOKEN.test(method)) throw usage(`"${first}" is not an HTTP method`, "e.g. tokensmith call NAME POST https://api.example.com/items");
  if (!isAbsoluteUrl(target)) {
    // curl would guess http://; a token must not go out over a guessed scheme, so say what to write.
    const guess = /^[\w.-]+(?::\d+)?(?:[/?#]|$)/.test(target) && !/^https?:/i.test(target) && URL.canParse(`https://${target}`) ? `did you mean https://${target} ?` : "give the full URL, e.g. https://api.example.com/items";
    throw usage(`"${target}" is not an absolute http(s) URL`, guess);
  }
  return { method, url: new URL(target) };
}

/** Methods a URL-less `call NAME WORD` most likely meant (anything else is taken for a bad URL). */
const METHOD = /^(?:get|head|post|put|patch|delete|options|trace)$/i;

/** An absolute http(s) URL: the only kind an API call (and a token) goes to. */
function isAbsoluteUrl(text: string): boolean {
  return /^https?:\/\//i.test(text) && URL.canParse(text);
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

/**
 * The request body from every `-d`: one is sent byte for byte; several are joined with `&`, as
 * curl joins them (`-d a=1 -d b=2` sends `a=1&b=2`).
 */
export async function readAllData(data: string[] | undefined, stdin: NodeJS.ReadableStream): Promise<Uint8Array<ArrayBuffer> | undefined> {
  if (!data?.length) return undefined;
  if (data.length === 1) return readData(data[0], stdin);
  const parts: Buffer[] = [];
  for (const [i, item] of data.entries()) {
    if (i > 0) parts.push(Buffer.from("&"));
    parts.push(Buffer.from((await readData(item, stdin))!));
  }
  return Buffer.concat(parts);
}

/** The bytes of one `-d`: the text itself, `@FILE`'s content, or `@-` for standard input. */
export async function readData(data: string | undefined, stdin: NodeJS.ReadableStream): Promise<Uint8Array<ArrayBuffer> | undefined> {
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
      throw usage(`cannot read -d @${path} (${(err as NodeJS.ErrnoException).code ?? "error"})`, "check the path; -d @- reads standard input", err);
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

/** The whole request from the command's arguments. */
export async function buildRequest(
  args: { name?: string; first: string; second?: string; header: string[]; data?: string[] },
  stdin: NodeJS.ReadableStream,
): Promise<CallRequest> {
  const { method, url } = methodAndUrl(args.first, args.second, !!args.data?.length, args.name);
  const headers = parseHeaders(args.header);
  const body = await readAllData(args.data, stdin);
  if (body && !headers.has("content-type")) headers.set("content-type", defaultContentType(body));
  return { method, url, headers, body };
}

function usage(message: string, hint: string, cause?: unknown): TokenSmithError {
  return new TokenSmithError("usage_error", message, { hint, cause });
}

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
export function methodAndUrl(first: string, second: string | undefined, hasBody: boolean): { method: string; url: URL } {
  const [method, target] = second === undefined ? [hasBody ? "POST" : "GET", first] : [first.toUpperCase(), second];
  if (!TOKEN.test(method)) throw usage(`"${first}" is not an HTTP method`, "e.g. tokensmith call NAME POST https://api.example.com/items");
  if (!URL.canParse(target)) throw usage(`"${target}" is not an absolute URL`, "give the full URL, e.g. https://api.example.com/items");
  return { method, url: new URL(target) };
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

/** The bytes of `-d`: the text itself, `@FILE`'s content, or `@-` for standard input. */
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
  args: { first: string; second?: string; header: string[]; data?: string },
  stdin: NodeJS.ReadableStream,
): Promise<CallRequest> {
  const { method, url } = methodAndUrl(args.first, args.second, args.data !== undefined);
  const headers = parseHeaders(args.header);
  const body = await readData(args.data, stdin);
  if (body && !headers.has("content-type")) headers.set("content-type", defaultContentType(body));
  return { method, url, headers, body };
}

function usage(message: string, hint: string, cause?: unknown): TokenSmithError {
  return new TokenSmithError("usage_error", message, { hint, cause });
}

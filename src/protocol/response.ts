import { TokenSmithError } from "../errors.js";
import { excerpt } from "../redact.js";
import type { ReceivedResponse } from "./types.js";

/**
 * Reading what authorization servers answer, shared by every processor: body parsing (JSON,
 * or form-encoded as GitHub sends without `Accept: application/json`), Retry-After, and body
 * excerpts that can never show a token.
 */
export type ParsedBody =
  | { kind: "object"; value: Record<string, unknown> }
  | { kind: "json"; value: unknown }
  | { kind: "empty" }
  | { kind: "text" };

/** Excerpts of server bodies in messages stay short: enough to recognise the page. */
const EXCERPT_CHARS = 160;

/** A form body: name=value pairs and nothing else (no spaces or markup, which real forms escape). */
const FORM_BODY = /^[^\s=&<>]+=[^\s<>]*(?:&[^\s=&<>]+=[^\s<>]*)*$/;

/** Names of fields whose values are secrets wherever they appear, nested too. */
export const SECRET_KEY = /token|secret|password|passwd|assertion|verifier|credential|^code$|^device_code$|private_?key|api_?key|^key$/i;

export function contentType(response: ReceivedResponse): string {
  return (response.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
}

/**
 * JSON nested deeper than this is refused before it is parsed (SPEC §2.19): no response of an
 * authorization server nests more than a few levels, and a 5,000-deep one overflows the stack
 * of everything that walks it afterwards (redaction, serialization, the store).
 */
export const MAX_JSON_DEPTH = 64;

/** True when JSON text nests arrays and objects deeper than `limit`; counted without parsing. */
export function jsonDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * Reads a body as JSON (or form-encoded), else says what it is. `what` names the endpoint in the
 * `invalid_response` thrown for JSON nested deeper than MAX_JSON_DEPTH.
 */
export function parseBody(response: ReceivedResponse, what = "server"): ParsedBody {
  const text = response.body.trim();
  if (text === "") return { kind: "empty" };
  const type = contentType(response);
  if (type === "application/x-www-form-urlencoded") return { kind: "object", value: Object.fromEntries(new URLSearchParams(text)) };
  if ((text.startsWith("{") || text.startsWith("[")) && jsonDeeperThan(text, MAX_JSON_DEPTH)) {
    throw invalidResponse(what, response, { kind: "text" }, {
      problem: `JSON nested more than ${MAX_JSON_DEPTH} levels deep (${Buffer.byteLength(response.body)} bytes)`,
      hint: "this is not a usable response; tokensmith refuses deeply nested JSON",
    });
  }
  try {
    const value: unknown = JSON.parse(text);
    return isPlainObject(value) ? { kind: "object", value } : { kind: "json", value };
  } catch {
    if (!type.includes("html") && FORM_BODY.test(text)) return { kind: "object", value: Object.fromEntries(new URLSearchParams(text)) };
    return { kind: "text" };
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The URL as errors show it: origin and path, never a query string that might carry a key. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return excerpt(url, EXCERPT_CHARS);
  }
}

/**
 * Seconds to wait from `Retry-After` (RFC 9110 §10.2.3): delta-seconds or an HTTP date. A
 * date is measured against the response's own `Date` header when present, so our clock's
 * skew does not matter; else against `now`.
 */
export function retryAfterSeconds(headers: Headers, now: () => number = Date.now): number | undefined {
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  const serverNow = Date.parse(headers.get("date") ?? "");
  const reference = Number.isNaN(serverNow) ? now() : serverNow;
  return Math.max(0, Math.ceil((at - reference) / 1000));
}

/** Every string value under a secret-named key, at any depth. */
export function secretValues(value: unknown, out: string[] = [], underSecretKey = false): string[] {
  if (typeof value === "string") {
    if (underSecretKey) out.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) secretValues(item, out, underSecretKey);
  } else if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) secretValues(item, out, underSecretKey || SECRET_KEY.test(key));
  }
  return out;
}

/**
 * A short, redacted excerpt of a body for an error message. Values found under secret-named
 * fields (and any `alsoHide`) are blanked first, so even a mapped, oddly named token is hidden.
 */
export function bodyExcerpt(response: ReceivedResponse, parsed: ParsedBody, alsoHide: readonly string[] = []): string {
  // XML-ish elements named like secrets (<access_token>…</access_token>) lose their content first.
  let text = response.body.replace(/<([\w:.-]+)[^>]*>([^<]*)<\/\1>/g, (element, tag: string) =>
    SECRET_KEY.test(tag) ? `<${tag}>[redacted]</${tag}>` : element,
  );
  if (contentType(response).includes("html")) {
    text = text.replace(/<(script|style)[\s\S]*?<\/\1>/gi, " ").replace(/<[^>]+>/g, " ");
  }
  const hide = [...(parsed.kind === "object" || parsed.kind === "json" ? secretValues(parsed.value) : []), ...alsoHide];
  for (const secret of hide.filter((s) => s.length > 0).sort((a, b) => b.length - a.length)) {
    text = text.split(secret).join("[redacted]");
  }
  return excerpt(text, EXCERPT_CHARS);
}

function describe(response: ReceivedResponse, parsed: ParsedBody): string {
  switch (parsed.kind) {
    case "empty":
      return "an empty body";
    case "json":
      return `JSON that is not an object (${Array.isArray(parsed.value) ? "an array" : typeof parsed.value})`;
    default: {
      const type = contentType(response) || "no content type";
      const what = parsed.kind === "text" ? "a non-JSON body" : "a body";
      // A successful answer that is not JSON may be a bare token (some APIs send one as
      // text/plain): show only its shape. HTML (a login page at the wrong URL) is shown.
      const success = response.status >= 200 && response.status < 300;
      if (success && parsed.kind === "text" && !type.includes("html")) {
        return `${what} (${type}, ${Buffer.byteLength(response.body)} bytes)`;
      }
      return `${what} (${type}): ${bodyExcerpt(response, parsed)}`;
    }
  }
}

/** Hints for HTTP failures without an OAuth error body. */
function statusHint(status: number): string | undefined {
  if (status === 429 || status >= 500) return "the server is failing or throttling; this is usually temporary and is retried with backoff";
  if (status === 404 || status === 405) return "check the endpoint URL (token_url, or the issuer's discovery metadata)";
  if (status === 401 || status === 403) return "check the client credentials and client_auth";
  return undefined;
}

/**
 * An answer that is not what the endpoint should send: a non-2xx status without an OAuth
 * error body, or a 2xx that is not the expected document. Always `invalid_response`, with the
 * status and Retry-After so transient failures (5xx, 429) are retried.
 */
export function invalidResponse(
  what: string,
  response: ReceivedResponse,
  parsed: ParsedBody,
  options: { problem?: string; hint?: string; now?: () => number } = {},
): TokenSmithError {
  const url = displayUrl(response.url);
  const problem = options.problem ?? describe(response, parsed);
  return new TokenSmithError("invalid_response", `${what} ${url} answered HTTP ${response.status} with ${problem}`, {
    status: response.status,
    url,
    retryAfter: retryAfterSeconds(response.headers, options.now),
    hint: options.hint ?? statusHint(response.status),
  });
}

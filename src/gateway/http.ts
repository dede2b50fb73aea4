import type { IncomingMessage, ServerResponse } from "node:http";
import { readRequestBody } from "../request-body.js";

/**
 * Request and response helpers for the gateway. Every answer goes out with the same
 * defensive headers: never cached (tokens and statuses change), never framed, never sniffed,
 * no referrer — and never a CORS header (SPEC §5: no CORS), so no other origin can read them.
 */

/** The POST bodies the gateway reads are a CSRF field or a small JSON object: a few hundred bytes. */
const MAX_BODY_BYTES = 16 * 1024;

/** Headers on every response. */
export const BASE_HEADERS: Readonly<Record<string, string>> = {
  "cache-control": "no-store",
  pragma: "no-cache",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-resource-policy": "same-origin",
};

/** A JSON answer. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body, null, 2);
  res.writeHead(status, { ...BASE_HEADERS, "content-type": "application/json; charset=utf-8", ...headers });
  res.end(`${text}\n`);
}

/** An HTML page; `csp` is its Content-Security-Policy. */
export function sendHtml(res: ServerResponse, status: number, html: string, csp: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...BASE_HEADERS, "content-type": "text/html; charset=utf-8", "content-security-policy": csp, ...headers });
  res.end(html);
}

/** Plain text (Prometheus metrics, health). */
export function sendText(res: ServerResponse, status: number, text: string, contentType = "text/plain; charset=utf-8"): void {
  res.writeHead(status, { ...BASE_HEADERS, "content-type": contentType });
  res.end(text);
}

/** 303 See Other: the browser follows with GET. */
export function redirect(res: ServerResponse, location: string, headers: Record<string, string> = {}): void {
  res.writeHead(303, { ...BASE_HEADERS, location, "content-length": "0", ...headers });
  res.end();
}

/** The request body as text, at most MAX_BODY_BYTES (larger: RangeError). */
export function readBody(req: IncomingMessage): Promise<string> {
  return readRequestBody(req, MAX_BODY_BYTES);
}

/** Cookies of a request by name (the first of duplicates wins). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name && !cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

import type { IncomingMessage, ServerResponse } from "node:http";
import { readRequestBody } from "../request-body.js";

/** Small request and response helpers for the demo's own (non-oidc-provider) routes. */

/** Largest body the demo's own routes read: a sign-in form or a test's echo payload. */
const MAX_BODY_BYTES = 64 * 1024;
const SEE_OTHER = 303;

/** The request body as text; rejects bodies over the limit. */
export function readBody(req: IncomingMessage): Promise<string> {
  return readRequestBody(req, MAX_BODY_BYTES);
}

/** The request body parsed as application/x-www-form-urlencoded. */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new URLSearchParams(await readBody(req));
}

/** An HTML page that is never cached and leaks no referrer. */
export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
  });
  res.end(html);
}

/** A JSON answer that is never cached. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
  res.end(JSON.stringify(body));
}

/** 303 See Other: the browser follows with GET whatever the method was. */
export function redirect(res: ServerResponse, location: string): void {
  res.writeHead(SEE_OTHER, { location, "cache-control": "no-store", "content-length": "0" });
  res.end();
}

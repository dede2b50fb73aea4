import { redactMessage } from "../redact.js";

/**
 * The page the browser shows after the redirect to the loopback listener (SPEC §3). It is
 * self-contained: inline style, no scripts, no images, nothing fetched from anywhere, and a
 * Content-Security-Policy that forbids it; `Referrer-Policy: no-referrer` keeps the callback
 * URL (which carried the code) out of any later request.
 */

/** What the page says: the outcome of the login, in words for a person. */
export interface CallbackPage {
  ok: boolean;
  title: string;
  message: string;
}

/** Headers of every answer the listener gives. */
export const CALLBACK_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/html; charset=utf-8",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  connection: "close",
};

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** HTML-escapes text (messages may quote a server's error_description). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]);
}

/**
 * A whole self-contained HTML document: no referrer, the given inline stylesheet, `head`
 * (trusted markup) and `body` (trusted markup); `title` is escaped here. The gateway's pages
 * use it too.
 */
export function htmlDocument(parts: { title: string; style: string; body: string; head?: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
${parts.head ?? ""}<title>${escapeHtml(parts.title)}</title>
<style>${parts.style}</style>
</head>
<body>
${parts.body}
</body>
</html>
`;
}

/** The page as HTML; the text is redacted and escaped. */
export function renderCallbackPage(page: CallbackPage): string {
  const title = escapeHtml(redactMessage(page.title));
  const message = escapeHtml(redactMessage(page.message));
  const accent = page.ok ? "#1a7f37" : "#b42318";
  const style = `
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; background: #f6f8fa; color: #1f2328; }
main { max-width: 32rem; margin: 12vh auto; padding: 2rem; background: #fff; border-radius: 8px; border-top: 4px solid ${accent}; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
h1 { font-size: 1.25rem; margin: 0 0 .75rem; color: ${accent}; }
p { margin: 0; }
`;
  return htmlDocument({ title: `tokensmith: ${redactMessage(page.title)}`, style, body: `<main>\n<h1>${title}</h1>\n<p>${message}</p>\n</main>` });
}

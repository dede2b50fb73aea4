import { createHash } from "node:crypto";
import { escapeHtml, htmlDocument } from "../flows/callback-page.js";
import { DASHBOARD_SCRIPT, DASHBOARD_STYLE } from "./dashboard-assets.js";

/**
 * The gateway's HTML: the dashboard and the small pages around it (sign-in needed, the
 * authorization result). Self-contained, with a strict Content-Security-Policy: only the
 * inline script and stylesheet with these exact hashes run, requests go to this origin only,
 * nothing may frame the page.
 */

function sha256(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

const STYLE_HASH = sha256(DASHBOARD_STYLE);
const SCRIPT_HASH = sha256(DASHBOARD_SCRIPT);

/** The dashboard's policy: its own script and style, fetches to itself, nothing else. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${SCRIPT_HASH}`,
  `style-src ${STYLE_HASH}`,
  "connect-src 'self'",
  "img-src data:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** The other pages run no script at all. */
export const PAGE_CSP = ["default-src 'none'", `style-src ${STYLE_HASH}`, "img-src data:", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"].join("; ");

/** A gateway page: the dashboard's stylesheet, and an empty icon so the browser asks for none. */
function shell(title: string, body: string, head = ""): string {
  return htmlDocument({ title, style: DASHBOARD_STYLE, body, head: `<link rel="icon" href="data:,">\n${head}` });
}

/** The dashboard for a signed-in session; its POSTs carry `csrf`. */
export function dashboardPage(csrf: string, baseUrl: string): string {
  return shell(
    "tokensmith gateway",
    `<header><h1>tokensmith</h1><span class="sub">gateway at ${escapeHtml(baseUrl)}</span><span class="sub" id="updated"></span><nav><a href="/metrics">metrics</a><button id="reload" type="button" title="re-read the config file (as SIGHUP does)">Reload config</button></nav></header>
<main>
<div id="notice" role="status" hidden></div>
<table id="connections">
<thead><tr><th>Connection</th><th>State</th><th>Expires in</th><th>Last refresh</th><th>Token requests</th><th>Served here</th><th></th></tr></thead>
<tbody></tbody>
</table>
<section id="result" hidden><h2></h2><ul></ul></section>
</main>
<script>${DASHBOARD_SCRIPT}</script>`,
    `<meta name="csrf-token" content="${escapeHtml(csrf)}">\n`,
  );
}

/** A page with a heading, a paragraph, and an optional link back to the dashboard (`link`: its URL). */
export function messagePage(title: string, text: string, options: { link?: boolean | string; hint?: string } = {}): string {
  const hint = options.hint ? `<p class="small">${escapeHtml(options.hint)}</p>` : "";
  const href = typeof options.link === "string" ? options.link : "/";
  const link = options.link ? `<p><a href="${escapeHtml(href)}">Back to the dashboard</a></p>` : "";
  return shell(title, `<header><h1>tokensmith</h1></header>\n<main><h2>${escapeHtml(title)}</h2><p>${escapeHtml(text)}</p>${hint}${link}</main>`);
}

/** What a browser without a session sees. */
export function signInPage(): string {
  return messagePage("Sign in", "Open the one-time sign-in URL that `tokensmith serve` printed when it started.", {
    hint: "Each URL works once. Restart the gateway for a new one, or ask for one with an API key: curl -X POST -H 'Authorization: Bearer KEY' <gateway>/v1/sign-in",
  });
}

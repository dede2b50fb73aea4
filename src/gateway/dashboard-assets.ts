import { formatDuration, formatRelative } from "../lifecycle/health.js";
import { LOG_PANEL_SCRIPT, LOG_PANEL_STYLE } from "./dashboard-log.js";

/**
 * The dashboard's stylesheet and script, inlined into the page and allowed by their SHA-256
 * hashes in its Content-Security-Policy (so nothing else may run or style it, and nothing is
 * loaded from anywhere). The script builds every element with textContent, never innerHTML:
 * connection names and server messages cannot inject markup.
 */

/** The one stylesheet of every gateway page; light and dark. */
export const DASHBOARD_STYLE = `
:root { color-scheme: light dark; --fg: #1d2430; --muted: #677183; --bg: #f6f7f9; --card: #fff; --line: #e2e5ea;
  --ok: #1f8a4c; --warn: #b7791f; --bad: #c53030; --none: #718096; --accent: #2b6cb0; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --muted: #9aa3b2; --bg: #14171c; --card: #1c2027; --line: #2d333d; --accent: #63a4ff; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: baseline; gap: 1rem; padding: 1rem 1.5rem; border-bottom: 1px solid var(--line); background: var(--card); }
header h1 { font-size: 1.2rem; margin: 0; }
header .sub { color: var(--muted); }
header nav { margin-left: auto; display: flex; align-items: baseline; gap: .75rem; }
header a { color: var(--accent); }
main { padding: 1.5rem; max-width: 1200px; }
table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); border-radius: 6px; }
th, td { text-align: left; padding: .6rem .75rem; border-bottom: 1px solid var(--line); vertical-align: top; }
td { overflow-wrap: break-word; }
th { font-size: .78rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
td.num { font-variant-numeric: tabular-nums; }
.name { font-weight: 600; }
.small { color: var(--muted); font-size: .85em; }
.problem { color: var(--bad); font-size: .85em; max-width: 32rem; }
.badge { display: inline-block; padding: .1rem .5rem; border-radius: 999px; font-size: .8em; font-weight: 600; color: #fff; background: var(--none); white-space: nowrap; }
.badge.ready { background: var(--ok); } .badge.expiring { background: var(--warn); }
.badge.failing, .badge.login_required, .badge.unreadable { background: var(--bad); }
.actions { white-space: nowrap; }
button { font: inherit; padding: .3rem .65rem; margin: 0 .2rem .2rem 0; border: 1px solid var(--line); border-radius: 4px; background: var(--bg); color: var(--fg); cursor: pointer; }
button:hover { border-color: var(--accent); }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger:hover { border-color: var(--bad); color: var(--bad); }
button:disabled { opacity: .5; cursor: wait; }
#notice { margin-bottom: 1rem; padding: .6rem .9rem; border-radius: 4px; background: var(--card); border-left: 4px solid var(--accent); }
#notice.bad { border-left-color: var(--bad); }
#result { margin-top: 1.5rem; padding: 1rem 1.25rem; background: var(--card); border: 1px solid var(--line); border-radius: 6px; }
#result h2 { font-size: 1rem; margin: 0 0 .5rem; }
#result ul { margin: 0; padding-left: 1.2rem; }
#result li.fail { color: var(--bad); } #result li.ok::marker { color: var(--ok); }
#result li.note { list-style: none; }
[hidden] { display: none !important; }
/* Narrow screens (a phone, 420 px): the header wraps and each connection is a card of labelled lines. */
@media (max-width: 720px) {
  header { flex-wrap: wrap; gap: .25rem .75rem; padding: .75rem 1rem; }
  header .sub { overflow-wrap: anywhere; }
  main { padding: 1rem .75rem; }
  #connections, #connections tbody, #connections tr, #connections td { display: block; width: 100%; }
  #connections { border: 0; background: none; }
  #connections thead { display: none; }
  #connections tr { margin-bottom: .75rem; background: var(--card); border: 1px solid var(--line); border-radius: 6px; }
  #connections td { border-bottom: 0; padding: .3rem .75rem; }
  #connections td:first-child { padding-top: .7rem; }
  #connections td:last-child { padding-bottom: .7rem; }
  #connections td[data-label]::before { content: attr(data-label); display: inline-block; min-width: 7.5rem; color: var(--muted); font-size: .75rem; text-transform: uppercase; letter-spacing: .04em; }
  #connections td[data-label] > div { display: inline-block; vertical-align: top; margin-right: .5rem; }
  .actions { white-space: normal; }
  .problem { max-width: none; }
  button { padding: .45rem .8rem; }
}
${LOG_PANEL_STYLE}`;

/** A function's source for the page, under `name` even if a bundler renamed it. */
function embed(fn: (...args: never[]) => unknown, name: string): string {
  return `${fn.toString()}${fn.name === name ? "" : `\nconst ${name} = ${fn.name};`}`;
}

/**
 * The dashboard: polls `/v1/connections`, ticks the countdowns, posts actions with the CSRF
 * token. Durations are written by the CLI's own formatter (lifecycle/health.ts), embedded.
 */
export const DASHBOARD_SCRIPT = `
${embed(formatDuration, "formatDuration")}
${embed(formatRelative, "formatRelative")}
"use strict";
${LOG_PANEL_SCRIPT}
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const tbody = document.querySelector("#connections tbody");
const notice = document.getElementById("notice");
const result = document.getElementById("result");
let rows = [];
let fetchedAt = 0;
const POLL_MS = 10000;

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
function plural(n, word) {
  return n + " " + word + (n === 1 ? "" : "s");
}
function bytes(n) {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) (n /= 1000), i++;
  return (i ? n.toFixed(1) : n) + " " + units[i];
}
function ago(iso) {
  return iso ? formatRelative(Date.parse(iso), Date.now()) : "never";
}
function say(text, bad) {
  notice.textContent = text;
  notice.className = bad ? "bad" : "";
  notice.hidden = !text;
}
function button(label, action, name, cls) {
  const b = el("button", label, cls);
  b.dataset.action = action;
  b.dataset.name = name;
  return b;
}
function details(c) {
  const h = c.health;
  const box = el("div", "", "small");
  const facts = [];
  if (c.scopes && c.scopes.length) facts.push("scopes: " + c.scopes.join(" "));
  if (c.grant) facts.push("refresh token: " + (c.has_refresh_token ? "yes" : "no"));
  if (c.detected_client_auth) facts.push("client auth: auto found " + c.detected_client_auth.method + " (pin it: " + c.detected_client_auth.pin + ")");
  else if (c.client_auth) facts.push("client auth: " + c.client_auth);
  if (c.shared_with && c.shared_with.length) facts.push("shares its state with " + c.shared_with.join(", "));
  facts.forEach(function (f) { box.append(el("div", f)); });
  return box;
}
function row(c) {
  const tr = el("tr");
  tr.dataset.name = c.connection;
  const h = c.health;
  const name = el("td");
  name.append(el("div", c.connection, "name"), el("div", [c.grant, c.provider].filter(Boolean).join(" · "), "small"), details(c));
  const problem = h.status === "failing" || h.status === "login_required" || h.status === "unreadable";
  name.append(el("div", h.summary, problem ? "problem" : "small"));
  if (h.last_error && h.last_error.hint) name.append(el("div", "cause: " + h.last_error.hint, "problem"));
  if (h.status === "login_required" && c.authorize.available) name.append(el("div", "Fix: press Authorize", "small"));
  if (!c.authorize.available && c.authorize.manual && !h.renews_by_itself) name.append(el("div", "Authorize with: " + c.authorize.manual, "small"));
  name.append(logPanel(c.name));
  const state = el("td");
  state.append(el("span", h.status, "badge " + h.status));
  const expires = el("td", "", "num expires");
  const last = el("td", ago(c.last_refresh), "num");
  if (c.last_refresh) last.title = c.last_refresh;
  const requests = el("td", c.token_requests, "num requests");
  const served = el("td", "", "num");
  const counts = plural(c.served.cache_hits, "cache hit") + " · " + plural(c.served.waits, "wait") + (c.served.errors ? " · " + plural(c.served.errors, "error") : "");
  served.append(el("div", plural(c.served.tokens, "token")), el("div", counts, "small"));
  const p = c.served.proxy;
  if (p && p.requests) served.append(el("div", "proxy: " + plural(p.requests, "request") + " · ↑ " + bytes(p.bytes_up) + " · ↓ " + bytes(p.bytes_down) + (p.recoveries ? " · 401 recovered " + p.recoveries + "×" : "") + (p.errors ? " · " + plural(p.errors, "error") : ""), "small proxy"));
  const actions = el("td", "", "actions");
  if (c.authorize.available) actions.append(button("Authorize", "authorize", c.connection, "primary"));
  if (!c.error) actions.append(button("Test", "test", c.connection), button("Refresh", "refresh", c.connection));
  // Only where there is a revocation endpoint to call (configured, preset or discovered).
  if (c.can_revoke) actions.append(button("Revoke", "revoke", c.connection, "danger"));
  [[state, "State"], [expires, "Expires"], [last, "Last refresh"], [requests, "Token requests"], [served, "Served here"]].forEach(function (p) { p[0].dataset.label = p[1]; });
  tr.append(name, state, expires, last, requests, served, actions);
  return tr;
}
function tick() {
  const elapsed = (Date.now() - fetchedAt) / 1000;
  rows.forEach(function (c, i) {
    const cell = tbody.children[i] && tbody.children[i].querySelector(".expires");
    if (!cell) return;
    if (c.expires_at === null) cell.textContent = c.health.status === "ready" && c.state === "valid" ? "no expiry" : "—";
    else cell.textContent = (c.expires_in - elapsed > 0 ? "expires " : "expired ") + formatRelative(Date.parse(c.expires_at), Date.now());
  });
}
async function load() {
  try {
    const res = await fetch("/v1/connections", { headers: { accept: "application/json" } });
    if (res.status === 401) return say("Your session has ended. Sign in again with a new URL from tokensmith serve.", true);
    const body = await res.json();
    if (!res.ok) return say(body.error.message, true);
    rows = body;
    fetchedAt = Date.now();
    tbody.replaceChildren.apply(tbody, rows.map(row));
    if (!rows.length) tbody.append(el("tr")).append(el("td", "No connections are configured (or this sign-in may see none)."));
    document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
    tick();
  } catch (err) {
    say("The gateway cannot be reached: " + err.message, true);
  }
}
function show(title, lines, failed) {
  result.querySelector("h2").textContent = title;
  const list = result.querySelector("ul");
  list.replaceChildren.apply(list, lines.map(function (l) { return el("li", l.text, l.ok === false ? "fail" : "ok"); }));
  result.hidden = false;
  result.className = failed ? "failed" : "";
}
function describe(action, name, status, body) {
  if (action === "test" && body && Array.isArray(body.steps)) {
    const lines = body.steps.map(function (s) { return { text: (s.ok ? "ok: " : "failed: ") + s.step + ": " + s.detail, ok: s.ok }; });
    if (body.cause) lines.push({ text: "likely cause: " + body.cause, ok: false });
    if (body.hint) lines.push({ text: "fix: " + body.hint });
    if (body.error && body.error.error) lines.push({ text: "server said: " + body.error.error + (body.error.error_description ? " (" + body.error.error_description + ")" : ""), ok: false });
    return show("test " + name + (body.ok ? ": all good" : ": failed"), lines, !body.ok);
  }
  if (body && body.error) {
    const lines = [{ text: body.error.code + ": " + body.error.message, ok: false }];
    if (body.error.hint) lines.push({ text: "hint: " + body.error.hint });
    return show(action + " " + name + " failed (HTTP " + status + ")", lines, true);
  }
  if (action === "refresh") return show("refreshed " + name, [{ text: "new token, expires in " + (body.expires_in === null ? "never" : formatDuration(body.expires_in)) }]);
  const lines = body.revoked.map(function (t) { return { text: "revoked the " + t.replace("_", " ") }; });
  body.warnings.forEach(function (w) { lines.push({ text: w, ok: false }); });
  lines.push({ text: body.dropped ? "the local state was dropped" : "the local state was kept" });
  show("revoked " + name, lines);
}
async function act(action, name, target) {
  if (action === "authorize") return location.assign("/authorize/" + encodeURIComponent(name));
  if (action === "revoke" && !confirm("Revoke the tokens of " + name + " at the server and drop them here?")) return;
  target.disabled = true;
  try {
    const res = await fetch("/v1/connections/" + encodeURIComponent(name) + "/" + action, {
      method: "POST",
      headers: { accept: "application/json", "x-csrf-token": csrf },
    });
    describe(action, name, res.status, await res.json());
  } catch (err) {
    say(action + " " + name + ": " + err.message, true);
  } finally {
    target.disabled = false;
    await load();
  }
}
tbody.addEventListener("click", function (event) {
  const b = event.target.closest("button[data-action]");
  if (b) act(b.dataset.action, b.dataset.name, b);
});
function listed(word, names) {
  return names.length ? [word + " " + names.join(", ")] : [];
}
async function reload(event) {
  const b = event.currentTarget;
  b.disabled = true;
  try {
    const res = await fetch("/v1/reload", { method: "POST", headers: { accept: "application/json", "x-csrf-token": csrf } });
    if (res.status === 401) return say("Your session has ended. Sign in again with a new URL from tokensmith serve.", true);
    const body = await res.json();
    if (!res.ok) {
      const e = body.error;
      return say("Reload failed, the gateway goes on with the config it had: " + e.message + (e.hint ? " (" + e.hint + ")" : ""), true);
    }
    const changes = listed("added", body.added).concat(listed("removed", body.removed), listed("changed", body.changed));
    if (body.api_keys_changed) changes.push("API keys changed");
    say("Config reloaded: " + (changes.length ? changes.join("; ") : "nothing changed") + "." + body.warnings.map(function (w) { return " Note: " + w + "."; }).join(""));
  } catch (err) {
    say("reload: " + err.message, true);
  } finally {
    b.disabled = false;
    await load();
  }
}
document.getElementById("reload").addEventListener("click", reload);
const params = new URLSearchParams(location.search);
if (params.get("authorized")) {
  say("Authorized " + params.get("authorized") + ".");
  history.replaceState(null, "", "/");
}
load();
setInterval(load, POLL_MS);
setInterval(tick, 1000);
`;

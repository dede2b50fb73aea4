/**
 * The dashboard's "Recent token requests" panel, one per connection (SPEC §5): a closed
 * `<details>` that, once opened, shows the last requests from `GET /v1/connections/NAME/log`
 * and reloads them with every poll of the list. Built with textContent only, like the rest of
 * the dashboard's script (dashboard-assets.ts embeds this, and its hash is in the page's CSP).
 */

/** How many requests the panel shows; `tokensmith log` shows all 50 kept. */
export const PANEL_ENTRIES = 10;

export const LOG_PANEL_STYLE = `
details.log { margin-top: .35rem; }
details.log summary { cursor: pointer; color: var(--accent); font-size: .85em; }
table.log-table { margin-top: .35rem; font-size: .8em; border-radius: 4px; }
table.log-table th, table.log-table td { padding: .2rem .45rem; white-space: nowrap; }
table.log-table tr.error td.result { color: var(--bad); font-weight: 600; }
table.log-table tr.ok td.result { color: var(--ok); }
`;

/** Uses the dashboard script's `el` and `formatRelative`. */
export const LOG_PANEL_SCRIPT = `
const openLogs = new Set();
const shownLogs = new Map();
function logTable(body) {
  if (!body.entries.length) return el("div", "No token requests yet.", "small");
  const shared = body.shared_with.length > 0;
  const table = el("table", "", "log-table");
  const head = el("tr");
  ["When", "Grant", "Result", "Duration", "Code", "Process"].concat(shared ? ["Connection"] : []).forEach(function (h) { head.append(el("th", h)); });
  table.append(head);
  body.entries.forEach(function (e) {
    const tr = el("tr", "", e.result);
    const when = el("td", formatRelative(Date.parse(e.at), Date.now()));
    when.title = e.at;
    const code = e.result === "removed" ? e.reason : [e.code, e.error !== e.code ? e.error : null, e.status ? "HTTP " + e.status : null].filter(Boolean).join(" ");
    tr.append(when, el("td", e.grant || "—"), el("td", e.result, "result"), el("td", e.duration_ms === null ? "—" : e.duration_ms + " ms", "num"), el("td", code || "—"), el("td", e.process));
    if (shared) tr.append(el("td", e.connection));
    table.append(tr);
  });
  const box = el("div");
  if (shared) box.append(el("div", "Shared token state: requests of " + body.shared_with.join(", ") + " are listed too.", "small"));
  box.append(table);
  return box;
}
async function fillLog(box, name) {
  const holder = box.querySelector(".log-body");
  try {
    const res = await fetch("/v1/connections/" + encodeURIComponent(name) + "/log?limit=${PANEL_ENTRIES}", { headers: { accept: "application/json" } });
    const body = await res.json();
    if (!res.ok) return holder.replaceChildren(el("div", body.error.message, "problem"));
    shownLogs.set(name, body);
    holder.replaceChildren(logTable(body));
  } catch (err) {
    holder.replaceChildren(el("div", "The log cannot be read: " + err.message, "problem"));
  }
}
function logPanel(name) {
  const box = el("details", "", "log");
  box.dataset.log = name;
  box.append(el("summary", "Recent token requests"), el("div", "", "log-body"));
  if (shownLogs.has(name)) box.querySelector(".log-body").append(logTable(shownLogs.get(name)));
  box.addEventListener("toggle", function () {
    if (box.open) {
      openLogs.add(name);
      fillLog(box, name);
    } else openLogs.delete(name);
  });
  if (openLogs.has(name)) box.open = true;
  return box;
}
`;

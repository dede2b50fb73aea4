/**
 * The demo server's HTML: plain pages that load nothing remote (oidc-provider's defaults pull
 * web fonts from Google), so the demo works offline and a test browser fetches one document.
 * Every value put into a page is escaped.
 */

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Makes any value safe to put into HTML text or an attribute. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

const STYLE =
  "body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#222}" +
  "label,input,button{display:block;width:100%;box-sizing:border-box;margin:.4rem 0}" +
  "input{padding:.5rem;font-size:1rem}button{padding:.6rem;font-size:1rem;cursor:pointer}" +
  ".error{color:#b00020}.muted{color:#666;font-size:.9rem}code{font-size:1.4rem}";

/** A whole page around `body` (already HTML). */
export function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;
}

/** What the sign-in page shows. */
export interface LoginPageOptions {
  uid: string;
  clientName: string;
  scope?: string;
  /** The demo user's name, shown as a hint: this server is for demos and tests only. */
  usernameHint: string;
  error?: string;
}

/** Sign-in and consent in one form: the demo grants whatever the client asked for. */
export function loginPage({ uid, clientName, scope, usernameHint, error }: LoginPageOptions): string {
  const action = `/interaction/${encodeURIComponent(uid)}`;
  return page(
    "Sign in to the tokensmith demo",
    `<p><strong>${escapeHtml(clientName)}</strong> asks for access${scope ? ` to <em>${escapeHtml(scope)}</em>` : ""}.</p>
${error ? `<p class="error">${escapeHtml(error)}</p>` : ""}
<form method="post" action="${action}/login" autocomplete="off">
<label>Username <input name="username" value="${escapeHtml(usernameHint)}" autofocus></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Sign in and allow</button>
</form>
<form method="post" action="${action}/abort"><button type="submit">Cancel</button></form>
<p class="muted">Demo server: the user is <code>${escapeHtml(usernameHint)}</code>; the password is shown where the demo server was started.</p>`,
  );
}

/** A page with one sentence (results and errors of the demo's own routes). */
export function messagePage(title: string, message: string): string {
  return page(title, `<p>${escapeHtml(message)}</p>`);
}

/** The shape of oidc-provider's page hooks: they set the body of the Koa context. */
interface PageContext {
  body: unknown;
  type?: string;
}

/** `features.deviceFlow.userCodeInputSource`: the form is oidc-provider's, with its CSRF field. */
export async function userCodeInputSource(ctx: PageContext, form: string, _out?: unknown, err?: { name?: string; userCode?: string }): Promise<void> {
  let message = "Enter the code shown on your device.";
  if (err && (err.userCode || err.name === "NoCodeError")) message = "That code is not right. Try again.";
  else if (err?.name === "AbortedError") message = "The sign-in request was cancelled.";
  else if (err) message = "Something went wrong processing the request.";
  ctx.body = page("Connect a device", `<p>${escapeHtml(message)}</p>${form}<button type="submit" form="op.deviceInputForm">Continue</button>`);
}

/** `features.deviceFlow.userCodeConfirmSource`. */
export async function userCodeConfirmSource(ctx: PageContext, form: string, client: { clientName?: string; clientId: string }, _deviceInfo: unknown, userCode: string): Promise<void> {
  ctx.body = page(
    "Confirm the device",
    `<p><strong>${escapeHtml(client.clientName ?? client.clientId)}</strong> shows this code:</p><p><code>${escapeHtml(userCode)}</code></p>
${form}<button type="submit" form="op.deviceConfirmForm">Continue</button>
<button type="submit" form="op.deviceConfirmForm" name="abort" value="yes">Abort</button>`,
  );
}

/** `features.deviceFlow.successSource`. */
export async function successSource(ctx: PageContext): Promise<void> {
  ctx.body = messagePage("Device connected", "You can close this page and return to your device.");
}

/** `renderError`: for browsers; API clients get oidc-provider's JSON errors. */
export async function renderError(ctx: PageContext, out: Record<string, unknown>): Promise<void> {
  ctx.type = "html";
  const rows = Object.entries(out)
    .map(([key, value]) => `<p><strong>${escapeHtml(key)}</strong>: ${escapeHtml(value)}</p>`)
    .join("\n");
  ctx.body = page("Something went wrong", rows);
}

import { protocolClient } from "../config/protocol-client.js";
import type { ResolvedConnection } from "../config/types.js";
import { TokenSmithError, toTokenSmithError } from "../errors.js";
import { prepareAuthorization, type PreparedAuthorization } from "../protocol/authorization-url.js";
import { requestToken } from "../protocol/send.js";
import type { Endpoints } from "../protocol/types.js";
import { checkAuthorizationResponse, parsePastedResponse, type ExpectedResponse } from "./callback.js";
import type { CallbackPage } from "./callback-page.js";
import { loginTimeout, untilDeadline } from "./deadline.js";
import { validateIdToken } from "./id-token.js";
import { listenLoopback, planLoopback } from "./loopback.js";
import { expectedIssuer, type FlowContext, type ObtainedTokens } from "./types.js";

/**
 * The authorization code flow (RFC 6749 §4.1) with PKCE, `state`, `nonce`, RFC 9207 `iss`
 * and ID token validation, in its two shapes (`tokensmith login`): the browser flow, which receives the
 * redirect on a loopback listener, and the manual flow, which has the redirected URL pasted.
 */

/** Told to the caller once the authorization URL is ready (and the browser was tried). */
export interface AuthorizationUrlInfo {
  /** True when a browser command took the URL; the URL is worth showing either way. */
  browserOpened: boolean;
  /** The redirect URI this login waits on (with the port bound, for the browser flow). */
  redirectUri: string;
}

export type OnAuthorizationUrl = (url: string, info: AuthorizationUrlInfo) => void | Promise<void>;

/** @internal */
export interface BrowserFlowOptions extends FlowContext {
  onAuthorizationUrl?: OnAuthorizationUrl;
  /** Opens the URL in a browser (true when it did); absent for `--no-browser`. */
  openUrl?: (url: string) => Promise<boolean>;
}

/** @internal */
export interface ManualFlowOptions extends FlowContext {
  onAuthorizationUrl?: OnAuthorizationUrl;
  /** One pasted line: the URL the browser was redirected to, or the bare code. */
  readPastedUrl: () => Promise<string>;
}

/** @internal Where the manual flow sends the browser when no redirect_uri is configured: nothing listens there, the address bar keeps the code. */
export const MANUAL_DEFAULT_REDIRECT_URI = "http://127.0.0.1/callback";

/** @internal What this login's authorization response must carry: its `state`, and `iss` per RFC 9207. */
export function expectedResponse(conn: ResolvedConnection, endpoints: Endpoints, state: string): ExpectedResponse {
  return {
    connection: conn.name,
    state,
    ...expectedIssuer(conn, endpoints),
    issRequired: endpoints.authorizationResponseIssParameterSupported === true,
  };
}

/** @internal What the code exchange keeps of the authorization request: the PKCE verifier and the nonce the ID token must echo. */
export type AuthorizationSecrets = Pick<PreparedAuthorization, "codeVerifier" | "nonce">;

/** @internal The code exchange (through the protocol layer) and the ID token check (OIDC Core §3.1.3.7). */
export async function exchangeCode(
  context: Pick<FlowContext, "conn" | "endpoints" | "fetch" | "clock" | "signal" | "requestToken">,
  secrets: AuthorizationSecrets,
  code: string,
  redirectUri: string,
): Promise<ObtainedTokens> {
  const { conn, endpoints, clock, signal } = context;
  const now = () => clock.now();
  const grant = { kind: "authorization_code" as const, code, redirectUri, codeVerifier: secrets.codeVerifier };
  const { tokens, sentAt } = context.requestToken
    ? await context.requestToken(grant, signal)
    : await requestToken(protocolClient(conn), endpoints, grant, { fetch: context.fetch, now, signal });
  if (tokens.idToken) {
    await validateIdToken(tokens.idToken, conn, endpoints, { ...expectedIssuer(conn, endpoints), nonce: secrets.nonce }, { fetch: context.fetch, now, signal });
  }
  return { tokens, sentAt, requests: 1 };
}

/** What the callback page says about an outcome. */
function pageFor(connection: string, err?: unknown): CallbackPage {
  if (!err) return { ok: true, title: "Logged in", message: `tokensmith has the tokens for "${connection}". You can close this tab.` };
  const e = toTokenSmithError(err, connection);
  return { ok: false, title: "Login failed", message: `${e.message}${e.hint ? ` (${e.hint})` : ""}. Details are in the terminal.` };
}

/**
 * The browser flow: listen on the redirect URI, send the browser to the authorization URL,
 * take exactly one callback, check it, exchange the code, show the outcome, close.
 * @internal
 */
export async function browserFlow(options: BrowserFlowOptions): Promise<ObtainedTokens> {
  const { conn } = options;
  const listener = await listenLoopback(planLoopback(conn.redirectUri, conn.name), { connection: conn.name });
  try {
    const prepared = prepareAuthorization(protocolClient(conn), options.endpoints, { redirectUri: listener.redirectUri });
    const browserOpened = options.openUrl ? await options.openUrl(prepared.url) : false;
    await options.onAuthorizationUrl?.(prepared.url, { browserOpened, redirectUri: listener.redirectUri });
    const callback = await untilDeadline(listener.callback(), {
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      onTimeout: () => loginTimeout(conn.name, options.timeoutMs, "the browser did not come back to the redirect URI"),
    });
    try {
      const code = checkAuthorizationResponse(callback.params, expectedResponse(conn, options.endpoints, prepared.state));
      const obtained = await exchangeCode(options, prepared, code, listener.redirectUri);
      await callback.respond(pageFor(conn.name));
      return obtained;
    } catch (err) {
      await callback.respond(pageFor(conn.name, err));
      throw err;
    }
  } finally {
    await listener.close();
  }
}

/**
 * The manual flow, for redirect URIs that are not on this machine: show the URL, read the
 * redirected URL (state checked) or the bare code, exchange it.
 * @internal
 */
export async function manualFlow(options: ManualFlowOptions): Promise<ObtainedTokens> {
  const { conn } = options;
  const redirectUri = conn.redirectUri ?? MANUAL_DEFAULT_REDIRECT_URI;
  const prepared = prepareAuthorization(protocolClient(conn), options.endpoints, { redirectUri });
  await options.onAuthorizationUrl?.(prepared.url, { browserOpened: false, redirectUri });
  const pasted = await untilDeadline(options.readPastedUrl(), {
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    onTimeout: () => loginTimeout(conn.name, options.timeoutMs, "no redirected URL was pasted"),
  });
  const response = parsePastedResponse(pasted, conn.name);
  const code = response.kind === "code" ? response.code : checkAuthorizationResponse(response.params, expectedResponse(conn, options.endpoints, prepared.state));
  return exchangeCode(options, prepared, code, redirectUri);
}

/** @internal The flow needs something to read the paste from (the library has no terminal). */
export function missingPasteReader(connection: string): TokenSmithError {
  return new TokenSmithError("usage_error", `connection "${connection}": the manual flow needs readPastedUrl to read the redirected URL`, { connection });
}

import { TokenSmithError, networkError, timeoutError, toTokenSmithError } from "../errors.js";
import { classifyNetworkError } from "../network-errors.js";
import { redact } from "../redact.js";
import { displayUrl } from "./response.js";
import { buildTokenRequest, grantSecrets } from "./token-request.js";
import { processTokenResponse } from "./token-response.js";
import { announceSecrets } from "./request.js";
import type { Endpoints, FetchLike, GrantRequest, HttpRequest, OAuthClient, PreparedRequest, ProtocolDeps, ReceivedResponse, TokenSet } from "./types.js";

/**
 * The one sender for requests to the authorization server (token, revocation, introspection,
 * device authorization). SPEC §2.13: redirects are never followed, a timeout and a network
 * failure are told apart, and every failure names the URL.
 */
export interface SendOptions {
  fetch: FetchLike;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Dates `sentAt`; token lifetimes count from it (SPEC §2.10). */
  now?: () => number;
  /** How errors name the endpoint. Default "token endpoint". */
  what?: string;
  /**
   * Same-origin redirects a GET may follow (default 0): only the metadata GET, which carries no
   * credentials, sets it (SPEC §2.12). A redirect to another origin is always refused.
   */
  maxRedirects?: number;
}

export interface SentResponse extends ReceivedResponse {
  /** Epoch ms taken just before the request left. */
  sentAt: number;
}

/** Token responses are a few KB; a misbehaving endpoint must not fill our memory. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

async function readLimited(response: Response, url: string, what: string): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      throw new TokenSmithError("invalid_response", `${what} ${url} sent more than ${MAX_RESPONSE_BYTES} bytes`, { url, status: response.status });
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Sends a prepared request and reads the whole response, or throws timeout / network_error / invalid_response. */
export async function sendTokenRequest(request: HttpRequest, options: SendOptions): Promise<SentResponse> {
  const what = options.what ?? "token endpoint";
  const url = displayUrl(request.url);
  const timeout = AbortSignal.timeout(Math.max(1, options.timeoutMs));
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const sentAt = (options.now ?? Date.now)();
  let at = request.url;
  try {
    for (let hops = 0; ; hops++) {
      const response = await options.fetch(at, { method: request.method, headers: request.headers, body: request.body, redirect: "manual", signal });
      if (response.type !== "opaqueredirect" && (response.status < 300 || response.status >= 400)) {
        const body = await readLimited(response, displayUrl(at), what);
        return { status: response.status, headers: response.headers, body, url: at, sentAt };
      }
      await response.body?.cancel().catch(() => undefined);
      at = redirectTarget(request, at, response, hops, { what, maxRedirects: options.maxRedirects ?? 0 });
    }
  } catch (err) {
    if (err instanceof TokenSmithError) throw err;
    if (options.signal?.aborted) throw options.signal.reason;
    const failure = classifyNetworkError(err, timeout.aborted);
    if (failure.kind === "timeout") {
      throw timeoutError({ url, what, cause: err, hint: "the server is slow or unreachable; raise timeout if it is just slow" }, { ms: options.timeoutMs });
    }
    throw networkError(
      { url, what, cause: err, hint: "check the URL, the network and any proxy; tokensmith retries transient failures" },
      failure.code ? failure.reason : redact(failure.reason),
    );
  }
}

/**
 * Where a redirect may be followed to (SPEC §2.12, §2.13): only a GET allowed `maxRedirects`,
 * only within the origin it was sent to, at most that many times; anything else is
 * `invalid_response` naming both URLs.
 */
function redirectTarget(request: HttpRequest, from: string, response: Response, hops: number, options: { what: string; maxRedirects: number }): string {
  const location = response.headers.get("location");
  const target = location && URL.canParse(location, from) ? new URL(location, from).toString() : undefined;
  const shown = target ? ` to ${displayUrl(target)}` : location ? ` to ${displayUrl(location)}` : "";
  const fail = (why: string, hint: string) =>
    new TokenSmithError("invalid_response", `${options.what} ${displayUrl(from)} redirected${shown} (HTTP ${response.status}); ${why}`, { url: displayUrl(from), status: response.status, hint });
  const fix = "set the endpoint URL to where the server redirects, after checking that it is the right server";
  if (request.method !== "GET" || options.maxRedirects === 0) throw fail("redirects are not followed", fix);
  if (!target) throw fail("the redirect has no usable Location", fix);
  if (new URL(target).origin !== new URL(request.url).origin) throw fail("a redirect to another origin is never followed", `${fix} (discovery_url)`);
  if (hops >= options.maxRedirects) throw fail(`more than ${options.maxRedirects} redirects`, `${fix} (discovery_url)`);
  return target;
}

/** The sender's options for one request of `client` with `deps`; `what` names the endpoint in errors. */
function sendOptions(client: Pick<OAuthClient, "options">, deps: ProtocolDeps, what?: string): SendOptions {
  return { fetch: deps.fetch, timeoutMs: deps.timeoutMs ?? client.options.timeoutMs, signal: deps.signal, now: deps.now, what };
}

/** One exchange with the authorization server: how to build the request, what it sends that is secret, how to read the answer. */
export interface Exchange<T> {
  /** Names the endpoint in errors; default "token endpoint". */
  what?: string;
  build: () => Promise<PreparedRequest>;
  /** Short-lived secrets the request carries, told to the client before it is sent. */
  secrets?: ReadonlyArray<string | undefined>;
  process: (response: SentResponse) => T;
}

/** Build, announce, send, process; errors carry the connection name, a caller's abort passes through. */
export async function exchange<T>(client: OAuthClient, deps: ProtocolDeps, step: Exchange<T>): Promise<T> {
  try {
    const request = await step.build();
    announceSecrets(client, step.secrets ?? []);
    const response = await sendTokenRequest(request, sendOptions(client, deps, step.what));
    return step.process(response);
  } catch (err) {
    throw connectionError(err, client, deps.signal);
  }
}

/**
 * One token request: build, send, process. Returns the tokens with `sentAt` (the lifetime's
 * origin, SPEC §2.10). Errors carry the connection name.
 */
export async function requestToken(client: OAuthClient, endpoints: Endpoints, grant: GrantRequest, deps: ProtocolDeps): Promise<{ tokens: TokenSet; sentAt: number }> {
  return exchange(client, deps, {
    build: () => buildTokenRequest(client, endpoints, grant, { now: deps.now }),
    secrets: grantSecrets(grant),
    process: (response) => ({ tokens: processTokenResponse(client, response, { now: deps.now }), sentAt: response.sentAt }),
  });
}

/** Names the connection on our errors; a caller's abort passes through untouched. */
export function connectionError(err: unknown, client: { name: string }, signal?: AbortSignal): unknown {
  if (signal?.aborted && err === signal.reason) return err;
  return toTokenSmithError(err, client.name);
}

import type { Dispatcher } from "undici";
import { TokenSmithError } from "../errors.js";
import { AuthorizedCall, type CallOptions, type TokenProvider } from "./call.js";
import { checkOrigin, tokenHeader } from "./origins.js";
import { RedirectTargets } from "./redirect-targets.js";

/**
 * `tokensmith/undici`: a dispatcher interceptor that puts a connection's token on every
 * request, with the same 401 recovery and `api_retry` as `connection.fetch` (SPEC §2.11, §2.13).
 *
 * ```ts
 * import { Agent, interceptors, request } from "undici";
 * import { authorize } from "tokensmith/undici";
 * const dispatcher = new Agent().compose(authorize(billing), interceptors.redirect({ maxRedirections: 3 }));
 * const { statusCode, body } = await request("https://api.example.com/invoices", { dispatcher });
 * ```
 *
 * Compose it before (inside) `interceptors.redirect`, as above: it then sees every hop and
 * keeps the token off any hop that left the origin. (Composed after it, only undici's own
 * stripping of `Authorization` applies, which misses a custom `header` name.)
 */
export function authorize(connection: TokenProvider, options: CallOptions = {}): Dispatcher.DispatcherComposeInterceptor {
  const offOrigin = new RedirectTargets();
  return (dispatch) =>
    function tokensmithInterceptor(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      send(connection, options, offOrigin, dispatch, opts, handler).catch((err: unknown) => {
        handler.onResponseError?.(null as unknown as Dispatcher.DispatchController, err instanceof Error ? err : new Error(String(err)));
      });
      return true;
    };
}

async function send(
  connection: TokenProvider,
  options: CallOptions,
  offOrigin: RedirectTargets,
  dispatch: Dispatcher.Dispatch,
  opts: Dispatcher.DispatchOptions,
  handler: Dispatcher.DispatchHandler,
): Promise<void> {
  const settings = await connection.setup();
  const name = settings.conn.header.name;
  const url = opts.origin === undefined ? undefined : new URL(opts.path, opts.origin);
  if (url && offOrigin.take(url)) {
    // A redirect hop that left the origin: no token, and its own redirects stay tainted.
    dispatch({ ...opts, headers: withHeader(opts.headers, name) }, new Attempt(handler, { url, offOrigin, tainted: true }));
    return;
  }
  if (url) checkOrigin(settings.conn, url);
  else if (settings.conn.allowedOrigins) {
    // A Client or Pool dispatches without an origin: it only ever talks to its own one, but
    // which one is not ours to see, so allowed_origins cannot be checked.
    throw new TokenSmithError("usage_error", `connection "${settings.conn.name}" has allowed_origins, but this request names no origin to check`, {
      connection: settings.conn.name,
      hint: "dispatch through an Agent with full URLs (undici.request(url, { dispatcher }))",
    });
  }
  const call = await AuthorizedCall.start(connection, settings, { method: opts.method, replayable: isReplayable(opts.body), retry: options.retry });
  const attempt = (): void => {
    const [, value] = tokenHeader(settings.conn, call.token);
    dispatch({ ...opts, headers: withHeader(opts.headers, name, value) }, new Attempt(handler, { url, offOrigin, tainted: false, call, again }));
  };
  const again = (delay: number): Promise<void> => call.wait(delay).then(attempt);
  attempt();
}

interface AttemptOptions {
  url: URL | undefined;
  offOrigin: RedirectTargets;
  /** This hop is off the origin (sent without the token). */
  tainted: boolean;
  call?: AuthorizedCall;
  again?: (delay: number) => Promise<void>;
}

/**
 * One attempt's handler: passes the response through, except one the call may retry (401,
 * 429/503 under `api_retry`), which it holds until the call decides: sent again, or replayed
 * to the caller's handler as it came.
 */
class Attempt implements Dispatcher.DispatchHandler {
  private held?: { controller: Dispatcher.DispatchController; status: number; headers: Record<string, string | string[] | undefined>; message?: string; chunks: Buffer[] };

  constructor(
    private readonly handler: Dispatcher.DispatchHandler,
    private readonly options: AttemptOptions,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.handler.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(controller: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>, socket: import("node:stream").Duplex): void {
    this.handler.onRequestUpgrade?.(controller, status, headers, socket);
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>, message?: string): void {
    const { url, call } = this.options;
    const location = headers.location;
    if (url && status >= 300 && status < 400 && typeof location === "string") this.options.offOrigin.saw(url, location, this.options.tainted);
    if (call?.mayRetry(status)) {
      this.held = { controller, status, headers, message, chunks: [] };
      return;
    }
    this.handler.onResponseStart?.(controller, status, headers, message);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.held) this.held.chunks.push(Buffer.from(chunk));
    else this.handler.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: Record<string, string | string[] | undefined>): void {
    const held = this.held;
    if (!held) return this.handler.onResponseEnd?.(controller, trailers);
    const retryAfter = held.headers["retry-after"];
    this.options
      .call!.next(held.status, typeof retryAfter === "string" ? retryAfter : undefined)
      .then((delay) => {
        if (delay !== undefined) return this.options.again!(delay);
        this.handler.onResponseStart?.(held.controller, held.status, held.headers, held.message);
        for (const chunk of held.chunks) this.handler.onResponseData?.(held.controller, chunk);
        this.handler.onResponseEnd?.(controller, trailers);
      })
      .catch((err: unknown) => this.handler.onResponseError?.(controller, err instanceof Error ? err : new Error(String(err))));
  }

  onResponseError(controller: Dispatcher.DispatchController, err: Error): void {
    this.handler.onResponseError?.(controller, err);
  }
}

/** Bodies undici can send twice: not streams or iterables, which are consumed by the first send. */
function isReplayable(body: unknown): boolean {
  if (body === undefined || body === null || typeof body === "string" || body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return true;
  return Object.prototype.toString.call(body) === "[object FormData]";
}

/** The request's headers with `name` removed (any case) and, when given, set to `value`. */
function withHeader(headers: Dispatcher.DispatchOptions["headers"], name: string, value?: string): Dispatcher.DispatchOptions["headers"] {
  const lower = name.toLowerCase();
  if (headers === null || headers === undefined) return value === undefined ? headers : { [name]: value };
  if (Array.isArray(headers) && (headers.length === 0 || typeof headers[0] === "string")) {
    const flat: string[] = [];
    for (let i = 0; i < headers.length; i += 2) if (headers[i].toLowerCase() !== lower) flat.push(headers[i], headers[i + 1]);
    if (value !== undefined) flat.push(name, value);
    return flat;
  }
  const out: Record<string, string | string[]> = {};
  const entries = Symbol.iterator in headers ? (headers as Iterable<[string, string | string[] | undefined]>) : Object.entries(headers);
  for (const [key, v] of entries) if (v !== undefined && key.toLowerCase() !== lower) out[key] = v;
  if (value !== undefined) out[name] = value;
  return out;
}

import type { Dispatcher } from "undici";
import { TokenSmithError } from "../errors.js";
import type { Connection } from "../lifecycle/connection.js";
import { internals } from "../lifecycle/handle.js";
import { AuthorizedCall, type HeaderReader, type TokenProvider } from "./call.js";
import type { CallOptions } from "./call-options.js";
import { checkOrigin, tokenHeader } from "./origins.js";
import { RedirectTargets } from "./redirect-targets.js";
import { isLegacy, LegacyHandler, ModernHandler, type AttemptCore } from "./undici-handlers.js";
import { retryPolicy } from "./retry.js";

/**
 * `tokensmith/undici`: a dispatcher interceptor that puts a connection's token on every
 * request, with the same 401 recovery and `api_retry` as `connection.fetch`.
 *
 * ```ts
 * import { Agent, interceptors, request } from "undici";
 * import { authorize } from "tokensmith/undici";
 * const dispatcher = new Agent().compose(authorize(billing), interceptors.redirect({ maxRedirections: 3 }));
 * const { statusCode, body } = await request("https://api.example.com/invoices", { dispatcher });
 * ```
 *
 * Compose it before (inside) `interceptors.redirect`, as above: it then sees every hop and
 * keeps the token off any hop that left the origin; undici's own `fetch` is covered the same
 * way. Composed after the redirect interceptor, it could not see the hops (and undici strips
 * only `Authorization` from them, not a custom `header` name): every request is then refused
 * with a `usage_error` before it is sent. `options.retry` applies to every request.
 * Bodies are replayed after a 401 when they are strings, buffers or FormData; undici's `fetch`
 * streams every body, so its requests with a body get the 401 back instead.
 */
export function authorize(connection: Connection, options: CallOptions = {}): Dispatcher.DispatcherComposeInterceptor {
  return authorizeProvider(internals(connection), options);
}

/** The interceptor over what the HTTP layer needs of a connection (its handle). */
function authorizeProvider(connection: TokenProvider, options: CallOptions): Dispatcher.DispatcherComposeInterceptor {
  const shared = { connection, options, offOrigin: new RedirectTargets(), origins: new OriginCache() };
  return (dispatch) => {
    const ctx: Context = { ...shared, dispatch };
    return function tokensmithInterceptor(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      const token = ctx.settings && connection.cachedToken?.();
      if (token !== undefined) {
        // The hot path: dispatching in the caller's own tick, without an await, keeps undici's throughput.
        try {
          return start(ctx, opts, handler, token);
        } catch (err) {
          fail(handler, err);
          return true;
        }
      }
      (async () => {
        if (!ctx.settings) {
          ctx.settings = await connection.setup();
          ctx.retryOn = new Set(retryPolicy(ctx.settings.conn, options.retry)?.on ?? []);
        }
        start(ctx, opts, handler, await connection.accessToken());
      })().catch((err: unknown) => fail(handler, err));
      return true;
    };
  };
}

interface Context {
  connection: TokenProvider;
  options: CallOptions;
  offOrigin: RedirectTargets;
  origins: OriginCache;
  dispatch: Dispatcher.Dispatch;
  /** Set once the connection is set up: from then on a cached token is sent without a single await. */
  settings?: Awaited<ReturnType<TokenProvider["setup"]>>;
  /** Statuses `api_retry` may retry: only responses with these (or 401) are held back. */
  retryOn?: Set<number>;
  /** The last token and its header value, so the hot path builds no strings. */
  header?: [token: string, value: string];
}

function fail(handler: Dispatcher.DispatchHandler, err: unknown): void {
  handler.onResponseError?.(null as unknown as Dispatcher.DispatchController, err instanceof Error ? err : new Error(String(err)));
}

/** First attempt of a request: checks where it goes, then dispatches with the token (or, on a hop off the origin, without). */
function start(ctx: Context, opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler, token: string): boolean {
  const conn = ctx.settings!.conn;
  const origin = opts.origin === undefined ? undefined : ctx.origins.get(opts.origin);
  if (origin && ctx.offOrigin.size > 0 && ctx.offOrigin.take(new URL(opts.path, origin))) {
    // A redirect hop that left the origin: no token, and its own redirects stay tainted.
    return new Attempt(ctx, opts, handler, origin, undefined).dispatch();
  }
  if (origin) checkOrigin(conn, origin, () => new URL(opts.path, origin));
  else if (conn.allowedOrigins) {
    // A Client or Pool dispatches without an origin: it only ever talks to its own one, but
    // which one is not ours to see, so allowed_origins cannot be checked.
    throw new TokenSmithError("usage_error", `connection "${conn.name}" has allowed_origins, but this request names no origin to check`, {
      connection: conn.name,
      hint: "dispatch through an Agent with full URLs (undici.request(url, { dispatcher }))",
    });
  }
  return new Attempt(ctx, opts, handler, origin, token).dispatch();
}

/**
 * One attempt of a request: dispatches with its token (or none, on a hop off the origin) and
 * decides about the response through the handler shell it hands down. A response the call may
 * retry (401, or 429/503 under `api_retry`) is held back until the call decides: sent again,
 * or replayed to the caller's handler as it came. The call's state is created only then, so a
 * plain 200 costs two small objects.
 */
class Attempt implements AttemptCore {
  /** The held response's status and headers, for the call's decision. */
  private held?: { status: number; header: HeaderReader };

  constructor(
    private readonly ctx: Context,
    private readonly opts: Dispatcher.DispatchOptions,
    private readonly handler: Dispatcher.DispatchHandler,
    private readonly origin: URL | undefined,
    /** undefined: a hop off the origin, sent without the token. */
    private readonly token: string | undefined,
    private call?: AuthorizedCall,
  ) {}

  dispatch(): boolean {
    const { ctx, token, handler } = this;
    const conn = ctx.settings!.conn;
    if (token !== undefined && ctx.header?.[0] !== token) ctx.header = [token, tokenHeader(conn, token)[1]];
    const headers = withHeader(this.opts.headers, conn.header.name, token === undefined ? undefined : ctx.header![1]);
    const shell = isLegacy(handler) ? new LegacyHandler(this, handler) : new ModernHandler(this, handler);
    return ctx.dispatch({ ...this.opts, headers }, shell as Dispatcher.DispatchHandler);
  }

  followedBeneath(): Error {
    const conn = this.ctx.settings!.conn;
    return new TokenSmithError("usage_error", `undici's redirect interceptor is composed inside tokensmith's authorize() for connection "${conn.name}": it would follow redirects unseen, with the ${conn.header.name} header on them`, {
      connection: conn.name,
      hint: "compose authorize() first: agent.compose(authorize(connection), interceptors.redirect({ maxRedirections: 3 }))",
    });
  }

  hold(status: number, header: HeaderReader): boolean {
    if (this.origin && status >= 300 && status < 400) {
      const location = header("location");
      if (location) this.ctx.offOrigin.saw(new URL(this.opts.path, this.origin), location, this.token === undefined);
    }
    if (this.token === undefined || (status !== 401 && status !== 403 && !this.ctx.retryOn?.has(status)) || !this.callFor().mayRetry(status, header)) return false;
    this.held = { status, header };
    return true;
  }

  settle(replay: () => void): void {
    const call = this.call!;
    const { status, header } = this.held!;
    call
      .next(status, header)
      .then(async (delay) => {
        if (delay === undefined) return replay();
        await call.wait(delay);
        new Attempt(this.ctx, this.opts, this.handler, this.origin, call.token, call).dispatch();
      })
      .catch((err: unknown) => fail(this.handler, err));
  }

  private callFor(): AuthorizedCall {
    const { ctx, opts } = this;
    this.call ??= AuthorizedCall.with(ctx.connection, ctx.settings!, { method: opts.method, replayable: isReplayable(opts.body), retry: ctx.options.retry }, this.token!);
    return this.call;
  }
}

/** Parsed request origins (a dispatcher talks to few), so the hot path parses no URL. */
class OriginCache {
  private last?: { key: string | URL; url: URL };

  get(origin: string | URL): URL {
    if (this.last?.key === origin) return this.last.url;
    const url = typeof origin === "string" ? new URL(origin) : origin;
    this.last = { key: origin, url };
    return url;
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

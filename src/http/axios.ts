import type { AxiosError, AxiosInstance, AxiosResponse, InternalAxiosRequestConfig } from "axios";
import { TokenSmithError } from "../errors.js";
import type { Connection } from "../lifecycle/connection.js";
import { internals } from "../lifecycle/handle.js";
import { AuthorizedCall, type HttpSettings, type TokenProvider } from "./call.js";
import type { CallOptions } from "./call-options.js";
import { followRedirects } from "./fetch.js";
import { checkOrigin, RedirectChain, tokenHeader } from "./origins.js";

/**
 * `tokensmith/axios`: request and response interceptors that put a connection's token on
 * every request of an axios instance, with the same 401 recovery and `api_retry` as
 * `connection.fetch`.
 *
 * ```ts
 * import axios from "axios";
 * import { authorize } from "tokensmith/axios";
 * const api = axios.create({ baseURL: "https://api.example.com" });
 * const eject = authorize(api, billing);
 * const { data } = await api.get("/invoices", { tokensmith: { retry: { max: 2 } } });
 * ```
 *
 * Redirects are checked hop by hop whatever the transport: once a hop leaves the origin, the
 * token header is removed for the rest of the chain, whatever its name. With
 * axios's `http` adapter (Node's default) through its `beforeRedirect` hook; with its `fetch`
 * adapter, by following the redirects here (`redirect: "manual"` on every hop, the request
 * body buffered so a 307 can replay it). Any other adapter, or a custom `transport`, could
 * follow redirects unseen: such a request is refused with a `usage_error`.
 */

declare module "axios" {
  interface AxiosRequestConfig {
    /** tokensmith's per-call options, e.g. `{ retry: { max: 2 } }` or `{ retry: false }`. */
    tokensmith?: CallOptions;
  }
}

/** Where the call's state rides on the request config, across axios's config merges. */
const CALL = Symbol("tokensmith.call");

interface CallState {
  call: AuthorizedCall;
  /** The caller's own `beforeRedirect`, run before ours. */
  beforeRedirect: InternalAxiosRequestConfig["beforeRedirect"];
}
type Carrier = InternalAxiosRequestConfig & { [CALL]?: CallState };

/** Attach tokensmith to an axios instance; returns a function that detaches it. */
export function authorize(instance: AxiosInstance, connection: Connection, options: CallOptions = {}): () => void {
  return authorizeProvider(instance, internals(connection), options);
}

/** The interceptors over what the HTTP layer needs of a connection (its handle). */
function authorizeProvider(instance: AxiosInstance, connection: TokenProvider, options: CallOptions): () => void {
  const guards = new FetchGuards();
  const request = instance.interceptors.request.use(async (config: Carrier) => {
    const settings = await connection.setup();
    const url = new URL(instance.getUri(config));
    config.adapter = transportOf(config, settings.conn.name);
    if (config.adapter === "fetch") config.env = { ...config.env, fetch: guards.get(settings.conn, config.env?.fetch) };
    let state = config[CALL];
    if (!state) {
      checkOrigin(settings.conn, url);
      const call = await AuthorizedCall.start(connection, settings, {
        method: config.method ?? "get",
        replayable: isReplayable(config.data),
        retry: config.tokensmith?.retry ?? options.retry,
      });
      state = { call, beforeRedirect: config.beforeRedirect };
      config[CALL] = state;
    }
    const [name, value] = tokenHeader(settings.conn, state.call.token);
    config.headers.set(name, value);
    const chain = new RedirectChain(settings.conn, url);
    chain.hop(url);
    const theirs = state.beforeRedirect;
    config.beforeRedirect = (redirect, response, request) => {
      theirs?.(redirect, response, request);
      if (!chain.hop(new URL(redirect.href))) removeHeader(redirect.headers, name);
    };
    return config;
  });

  /** Send again when the call says so (after a 401 with a fresh token, or after Retry-After); else pass on. */
  const recover = async (response: AxiosResponse, error?: AxiosError): Promise<AxiosResponse> => {
    const config = response.config as Carrier;
    const call = config[CALL]?.call;
    const header = (name: string) => {
      const value: unknown = response.headers?.[name];
      return typeof value === "string" ? value : undefined;
    };
    if (call?.mayRetry(response.status, header)) {
      const delay = await call.next(response.status, header);
      if (delay !== undefined) {
        await call.wait(delay, config.signal instanceof AbortSignal ? config.signal : undefined);
        return instance.request(config);
      }
    }
    if (error) throw error;
    return response;
  };
  const response = instance.interceptors.response.use(
    (res) => recover(res),
    (err: unknown) => {
      const e = err as AxiosError;
      if (e?.isAxiosError && e.response && e.config) return recover(e.response, e);
      throw err;
    },
  );
  return () => {
    instance.interceptors.request.eject(request);
    instance.interceptors.response.eject(response);
  };
}

/** A fetch as axios's fetch adapter calls it. */
type AnyFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** The transports whose redirects tokensmith can see, by axios's adapter names. */
type Transport = "http" | "fetch";

/**
 * The adapter axios would pick for `config` (its first available one, as axios does), when it
 * is one whose redirects tokensmith can see; refused otherwise.
 */
function transportOf(config: InternalAxiosRequestConfig, connection: string): Transport {
  const refuse = (what: string) =>
    new TokenSmithError("usage_error", `tokensmith/axios cannot see the redirects of ${what}, so it could not keep connection "${connection}"'s token off other origins`, {
      connection,
      hint: 'use axios\'s "http" adapter (the default in Node) or its "fetch" adapter, without a custom transport',
    });
  const wanted = config.adapter ?? ["xhr", "http", "fetch"];
  for (const entry of Array.isArray(wanted) ? wanted : [wanted]) {
    const name = typeof entry === "string" ? entry.toLowerCase() : typeof entry === "function" ? (entry as { adapterName?: unknown }).adapterName : undefined;
    if (name === "xhr" && typeof XMLHttpRequest === "undefined") continue;
    if (name === "fetch" && typeof fetch !== "function" && typeof config.env?.fetch !== "function") continue;
    if (name === "http") {
      // A transport of the caller's own gets no beforeRedirect hook.
      if (config.transport) throw refuse("a custom transport");
      return "http";
    }
    if (name === "fetch") return "fetch";
    throw refuse(typeof entry === "string" ? `axios's "${entry}" adapter` : "a custom adapter");
  }
  throw refuse("any adapter axios could use here");
}

/**
 * The `fetch` axios's fetch adapter calls, one per underlying fetch (axios caches its adapter
 * per fetch function, so a new one per request would grow that cache without end).
 */
class FetchGuards {
  private readonly guards = new WeakMap<object, AnyFetch>();
  private readonly ours = new WeakSet<object>();
  private global?: AnyFetch;

  get(conn: HttpSettings, theirs: unknown): AnyFetch {
    if (typeof theirs === "function" && this.ours.has(theirs)) return theirs as AnyFetch;
    const inner = typeof theirs === "function" ? (theirs as AnyFetch) : undefined;
    let guard = inner ? this.guards.get(inner) : this.global;
    if (!guard) {
      guard = guardedFetch(conn, inner ?? ((url, init) => globalThis.fetch(url, init)));
      this.ours.add(guard);
      if (inner) this.guards.set(inner, guard);
      else this.global = guard;
    }
    return guard;
  }
}

/**
 * A fetch that follows redirects itself, keeping the token header (set by the request
 * interceptor) to the first origin's hops. axios hands it a `Request` and its `fetchOptions`.
 */
function guardedFetch(conn: HttpSettings, send: AnyFetch): AnyFetch {
  return async (input, init = {}) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const value = request.headers.get(conn.header.name);
    // Buffered: a 307/308 sends the body again, which a stream cannot do.
    const body = request.body ? await request.arrayBuffer() : undefined;
    const sent = { ...init, method: request.method, headers: request.headers, body, signal: request.signal, redirect: init.redirect ?? request.redirect };
    // No token on it (not a request of ours): nothing to keep off other origins.
    if (value === null) return send(request.url, sent);
    return followRedirects(conn, send, new URL(request.url), sent, [conn.header.name, value]);
  };
}

/** Request data axios can send twice: anything but a stream (which the first send consumes). */
function isReplayable(data: unknown): boolean {
  if (data === null || typeof data !== "object") return true;
  return typeof (data as { pipe?: unknown }).pipe !== "function" && !(Symbol.asyncIterator in data);
}

function removeHeader(headers: Record<string, unknown> | undefined, name: string): void {
  if (!headers) return;
  const lower = name.toLowerCase();
  for (const key of Object.keys(headers)) if (key.toLowerCase() === lower) delete headers[key];
}

import type { AxiosError, AxiosInstance, AxiosResponse, InternalAxiosRequestConfig } from "axios";
import { AuthorizedCall, type CallOptions, type TokenProvider } from "./call.js";
import { checkOrigin, RedirectChain, tokenHeader } from "./origins.js";

/**
 * `tokensmith/axios`: request and response interceptors that put a connection's token on
 * every request of an axios instance, with the same 401 recovery and `api_retry` as
 * `connection.fetch` (SPEC §2.11, §2.13).
 *
 * ```ts
 * import axios from "axios";
 * import { authorize } from "tokensmith/axios";
 * const api = axios.create({ baseURL: "https://api.example.com" });
 * const eject = authorize(api, billing);
 * const { data } = await api.get("/invoices", { tokensmith: { retry: { max: 2 } } });
 * ```
 *
 * Redirects (Node's http adapter, the default) are checked hop by hop: once a hop leaves the
 * origin, the token header is removed for the rest of the chain, whatever its name.
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
export function authorize(instance: AxiosInstance, connection: TokenProvider, options: CallOptions = {}): () => void {
  const request = instance.interceptors.request.use(async (config: Carrier) => {
    const settings = await connection.setup();
    const url = new URL(instance.getUri(config));
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

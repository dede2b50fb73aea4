import type { Clock } from "../clock.js";
import { TokenSmithError } from "../errors.js";
import type { FetchLike } from "../protocol/types.js";
import { internals } from "../lifecycle/handle.js";
import { TokenSmith } from "../tokensmith.js";
import { ApiKeys, randomSecret } from "./auth.js";
import { GatewayError, sendError } from "./errors.js";
import { hostChecker, hostPort } from "./hosts.js";
import { listen, PROXY_BUSY } from "./listen.js";
import { proxy } from "./proxy.js";
import { ProxyMetrics } from "./proxy-metrics.js";

/**
 * `tokensmith proxy NAME` as a library call (SPEC §3, §5): the gateway's proxy route for one
 * connection, at the root of its own loopback port, for one local tool. A random key is made
 * at start (the tool sends `Authorization: Bearer <key>`); `auth: false` drops it, and then
 * every process on this machine can call the API as the user. The Host header is checked
 * against DNS rebinding as the gateway's is, so a web page cannot reach it through a name.
 */

export interface ProxyServerOptions {
  /** The connection to proxy. */
  name: string;
  config?: string | object;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Default 0: a free port, printed at start. */
  port?: number;
  /** false: no key (`--no-auth`). Default true. */
  auth?: boolean;
  onWarning?: (message: string) => void;
  fetch?: FetchLike;
  clock?: Clock;
}

export interface ProxyServer {
  /** e.g. http://127.0.0.1:54321 — the API's base_url, through the proxy. */
  url: string;
  /** Where it sends requests: the connection's `base_url`. */
  baseUrl: string;
  /** The key to send as `Authorization: Bearer <key>`; undefined with `auth: false`. */
  key?: string;
  metrics: ProxyMetrics;
  tokensmith: TokenSmith;
  close(): Promise<void>;
}

const HOST = "127.0.0.1";

export async function startProxy(options: ProxyServerOptions): Promise<ProxyServer> {
  const ts = await TokenSmith.load({ config: options.config, cwd: options.cwd, env: options.env, refreshAhead: true, onWarning: options.onWarning, fetch: options.fetch, clock: options.clock });
  try {
    const connection = ts.connection(options.name);
    // Settings (and so base_url) checked now, not at the first request.
    const { conn } = await internals(connection).setup();
    if (!conn.baseUrl) {
      throw new TokenSmithError("config_invalid", `connection "${conn.name}" has no base_url to proxy to`, {
        connection: conn.name,
        field: `connections.${conn.name}.base_url`,
        hint: "set base_url to the API's base URL, e.g. base_url: https://api.example.com/v1",
      });
    }
    const key = options.auth === false ? undefined : randomSecret();
    const keys = key ? new ApiKeys([{ key }]) : undefined;
    const listening = await listen(HOST, options.port ?? 0, undefined, PROXY_BUSY);
    const hostAllowed = hostChecker(HOST, listening.port);
    const metrics = new ProxyMetrics();
    const url = `http://${hostPort(HOST, listening.port)}`;
    listening.serve((req, res) => {
      let target: URL | undefined;
      try {
        target = new URL(req.url ?? "/", url);
      } catch {
        // Answered below.
      }
      const refused = !hostAllowed(req.headers.host)
        ? new GatewayError(403, "host_not_allowed", "this Host is not the proxy's address", `use ${url}`)
        : keys && !keys.authenticate(req.headers.authorization)
          ? new GatewayError(401, "unauthorized", "the proxy's key is missing or wrong", "send Authorization: Bearer <key> with the key `tokensmith proxy` printed at start")
          : !target
            ? new GatewayError(400, "bad_request", "malformed request URL")
            : undefined;
      if (refused || !target) return sendError(res, refused, refused?.status === 401 ? { "www-authenticate": 'Bearer realm="tokensmith-proxy"' } : {});
      proxy({ connection, path: target.pathname, search: target.search, prefix: "", metrics }, req, res).catch((err: unknown) => {
        if (res.headersSent) return void res.destroy();
        sendError(res, err instanceof TokenSmithError ? err.withConnection(connection.name) : err);
      });
    });
    return {
      url,
      baseUrl: conn.baseUrl,
      key,
      metrics,
      tokensmith: ts,
      close: async () => {
        await listening.close();
        await ts.close();
      },
    };
  } catch (err) {
    await ts.close();
    throw err;
  }
}

import { systemClock, type Clock } from "../clock.js";
import { loadConfig } from "../config/load.js";
import { resolveGatewayConfig } from "../config/resolve.js";
import { toTokenSmithError, type TokenSmithError } from "../errors.js";
import type { FetchLike } from "../protocol/types.js";
import { TokenSmith } from "../tokensmith.js";
import { visibleStatuses, type ApiDeps } from "./api.js";
import { Sessions, type Principal } from "./auth.js";
import { BrowserAuthorizations } from "./authorize.js";
import { createHandler, type HandlerDeps } from "./handler.js";
import { baseUrl, hostChecker } from "./hosts.js";
import { checkBind, listen } from "./listen.js";
import { GatewayMetrics } from "./metrics.js";
import { observeStore } from "./observed-store.js";
import { gatewayKeys, reloader, type GatewayReload, type ReloadOutcome } from "./reload.js";

export { reloadLogLines, type GatewayReload, type ReloadOutcome } from "./reload.js";

export { startProxy, type ProxyServer, type ProxyServerOptions } from "./proxy-server.js";

/** The operator's log line and stack for a 500, for `tokensmith serve` (the gateway's one way in). */
export { errorLogLine, errorStack } from "./errors.js";

/**
 * `tokensmith serve` as a library call (SPEC §5): load the config, open the store (observed
 * for metrics), make sure there is an API key, listen, and hand back the URLs to print.
 */

/** How to start the gateway; everything defaults to the config's `gateway:` section. */
export interface GatewayOptions {
  /** A config path or object, as `TokenSmith.load`; default the SPEC §1 lookup. */
  config?: string | object;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Override `gateway.host` / `gateway.port` (`--host`, `--port`). */
  host?: string;
  port?: number;
  /** Warnings from the library and the gateway (the library never prints). */
  onWarning?: (message: string) => void;
  /**
   * A request the gateway answered with a 500 (a bug, or a config it could not use): the
   * operator's log line. The client gets the JSON error; without this nobody else would know.
   */
  onError?: (error: TokenSmithError, request: { method: string; path: string }) => void;
  /** Every config reload (SIGHUP through `Gateway.reload`, or the dashboard's Reload): what changed, or why nothing did. */
  onReload?: (outcome: ReloadOutcome) => void;
  /** Transport to the authorization servers (tests). */
  fetch?: FetchLike;
  /** Time, for token expiry and the sign-in tickets' and sessions' lifetimes (tests). */
  clock?: Clock;
}

/** A running gateway: what `serve` prints, and how to stop it. */
export interface Gateway {
  /** Where it listens, e.g. http://127.0.0.1:7373. */
  url: string;
  /** The one-time dashboard sign-in URL minted at start. */
  signInUrl: string;
  /** The generated key's file, when no `api_keys` are configured. */
  keyFile?: string;
  tokensmith: TokenSmith;
  /** Another one-time sign-in URL (full access). */
  newSignInUrl(): string;
  /**
   * Re-read the config file (SIGHUP): connections and API keys change, sessions go on; a config
   * that does not validate is refused (`config_invalid`) and the running one stays.
   */
  reload(): Promise<GatewayReload>;
  /** Stops listening, lets requests in flight finish, closes the store. */
  close(): Promise<void>;
}

/** Starts the gateway; `config_invalid` or `port_in_use` (exit 2) when it cannot. */
export async function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const env = options.env ?? process.env;
  const onWarning = options.onWarning ?? (() => {});
  const clock = options.clock ?? systemClock;
  const loaded = await loadConfig({ config: options.config, cwd: options.cwd, env }).catch((err: unknown) => {
    throw toTokenSmithError(err);
  });
  const settings = resolveGatewayConfig(loaded, env);
  const host = options.host ?? settings.host;
  const port = options.port ?? settings.port;
  checkBind(host, !!settings.tls);
  const metrics = new GatewayMetrics();
  // The store is opened now (a store that cannot be opened fails the start), observed for metrics.
  const ts = await TokenSmith.load({
    config: loaded.path ?? options.config,
    cwd: options.cwd,
    env,
    observeStore: (store) => observeStore(store, metrics.storeObserver),
    refreshAhead: true,
    onWarning,
    fetch: options.fetch,
    clock,
  });
  try {
    const { keys, keyFile } = await gatewayKeys(loaded, settings, env);
    const listening = await listen(host, port, settings.tls);
    const url = baseUrl(host, listening.port, !!settings.tls, settings.hosts);
    const now = () => clock.now();
    const sessions = new Sessions(now);
    const deps: HandlerDeps = {
      ts,
      metrics,
      now,
      keys,
      sessions,
      tls: !!settings.tls,
      baseUrl: url,
      callbackUrl: `${url}/callback`,
      hostAllowed: hostChecker(host, listening.port, settings.hosts),
      onError: options.onError ?? (() => {}),
      authorizations: new BrowserAuthorizations(`${url}/callback`, now),
      metricsText: (principal) => metricsText(deps, principal),
      reload: () => reload(),
    };
    const reload = reloader(deps, loaded, env, options.onReload ?? (() => {}));
    listening.serve(createHandler(deps));
    const newSignInUrl = () => `${url}/login?token=${sessions.issueTicket()}`;
    return {
      url,
      signInUrl: newSignInUrl(),
      keyFile,
      tokensmith: ts,
      newSignInUrl,
      reload,
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

/** `/metrics`: the counters, and gauges for the connections the principal may see. */
async function metricsText(deps: ApiDeps, principal: Principal): Promise<string> {
  return deps.metrics.render(await visibleStatuses(deps, principal));
}

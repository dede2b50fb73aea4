import { readFileSync } from "node:fs";
import type { buildConnector, Dispatcher } from "undici";
import { TokenSmithError } from "../errors.js";
import { importOptionalPackage } from "../optional-package.js";
import type { FetchLike } from "../protocol/types.js";
import { registerSecret } from "../redact.js";
import { describeProxy, mayProxy, proxyFor, proxyRules, registerProxyCredentials, type ProxyRules } from "./proxy-env.js";
import { networkFailure } from "./transport-errors.js";

/**
 * The fetch tokensmith hands to every layer of a connection (SPEC §1 `proxy`, `tls`; §2.13):
 * token, discovery, revocation, introspection and device requests, `connection.fetch`, `call`,
 * pagination and the gateway all send through it. It picks the request's proxy (the
 * connection's `proxy:`, else `HTTPS_PROXY`/`HTTP_PROXY` minus `NO_PROXY`) and adds the
 * connection's TLS material — extra CAs on top of the system's and `NODE_EXTRA_CA_CERTS`, and
 * the client certificate of mutual TLS, so an API called with a certificate-bound token
 * (RFC 8705 §3) gets the same certificate. Both are undici dispatchers passed to fetch as
 * `dispatcher` (Node's fetch is undici's); undici is loaded only when one is needed, so a
 * connection with neither costs nothing. Proxy and TLS failures become `network_error`s that
 * name the proxy or the host, and the likely fix.
 */

/** A connection's `tls:` setting: each a file path (absolute once resolved) or PEM text. */
export interface TlsFiles {
  caFile?: string;
  clientCert?: string;
  clientKey?: string;
}

/** What of a connection the transport reads. */
export interface NetworkSettings {
  name: string;
  /** `none`, a proxy URL, or undefined for the environment's variables. */
  proxy?: string;
  tls?: TlsFiles;
}

/** The TLS options of a connection, as Node's `tls.connect` takes them. */
interface TlsOptions {
  ca?: string[];
  cert?: string;
  key?: string;
}

/** A PEM value given inline (or through `${file:}`), or read from the path given. */
function readPem(value: string, field: string, connection: string): string {
  if (value.includes("-----BEGIN ")) return value;
  try {
    return readFileSync(value, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new TokenSmithError("config_invalid", `${field}: ${code === "ENOENT" ? `file ${value} not found` : `cannot read ${value} (${code})`}`, {
      connection,
      field,
      hint: "give a PEM file path (relative to the config file) or the PEM text",
      cause,
    });
  }
}

/**
 * The CAs Node trusts by default beside its bundled ones: `NODE_EXTRA_CA_CERTS`. Giving `ca`
 * replaces Node's default list, so the extra ones are added back by hand; an unreadable file
 * is skipped, as Node does.
 */
function extraCaCerts(env: NodeJS.ProcessEnv): string[] {
  const path = env.NODE_EXTRA_CA_CERTS;
  if (!path) return [];
  try {
    return [readFileSync(path, "utf8")];
  } catch {
    return [];
  }
}

async function tlsOptions(conn: NetworkSettings, env: NodeJS.ProcessEnv): Promise<TlsOptions | undefined> {
  const tls = conn.tls;
  if (!tls) return undefined;
  const field = (name: string) => `connections.${conn.name}.tls.${name}`;
  const options: TlsOptions = {};
  // Loaded here: a connection without tls settings never needs node:tls's list.
  if (tls.caFile) options.ca = [...(await import("node:tls")).rootCertificates, ...extraCaCerts(env), readPem(tls.caFile, field("ca_file"), conn.name)];
  if (tls.clientCert) options.cert = readPem(tls.clientCert, field("client_cert"), conn.name);
  if (tls.clientKey) {
    options.key = readPem(tls.clientKey, field("client_key"), conn.name);
    registerSecret(options.key);
  }
  return options;
}

/** A proxy URL from the environment may lack its scheme (`proxy.corp:3128`): http is meant. */
function proxyUrl(proxy: string, conn: NetworkSettings): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch (cause) {
    throw new TokenSmithError("config_invalid", `the proxy ${conn.proxy ? "setting" : "variable (HTTPS_PROXY / HTTP_PROXY)"} is not a URL`, {
      connection: conn.name,
      field: conn.proxy ? `connections.${conn.name}.proxy` : undefined,
      hint: "e.g. http://proxy.example.com:3128, or http://user:password@proxy.example.com:3128",
      cause,
    });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TokenSmithError("config_invalid", `the proxy ${describeProxy(url.href)} is not an http:// or https:// proxy`, {
      connection: conn.name,
      hint: "tokensmith speaks to HTTP proxies (CONNECT for https targets)",
    });
  }
  registerProxyCredentials(url);
  return url.href;
}

type Undici = typeof import("undici");
type Connector = buildConnector.connector;

/** Alerts remembered at most: one per socket that failed recently. */
const MAX_ALERTS = 64;

/**
 * TLS alerts seen on the sockets of the direct dispatchers, by local port. A TLS 1.3 server
 * refusing the client's certificate says so after the handshake; undici reports it as "other
 * side closed" with the socket's ports, and this tells what the server really said.
 */
class TlsAlerts {
  private readonly seen = new Map<number, string>();

  watch(socket: { localPort?: number; on(event: "error", listener: (err: Error) => void): unknown }): void {
    const port = socket.localPort;
    if (port === undefined) return;
    socket.on("error", (err) => {
      const code = (err as { code?: unknown }).code;
      if (typeof code !== "string" || !code.startsWith("ERR_SSL_")) return;
      this.seen.set(port, code);
      if (this.seen.size > MAX_ALERTS) this.seen.delete(this.seen.keys().next().value!);
    });
  }

  /** The alert of the socket a failure names, if one was seen. */
  take(err: unknown): string | undefined {
    for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
      const port = (e as { socket?: { localPort?: unknown } }).socket?.localPort;
      if (typeof port !== "number") continue;
      const code = this.seen.get(port);
      this.seen.delete(port);
      return code;
    }
    return undefined;
  }
}

/**
 * Where requests of one connection to one origin go, for a caller that speaks undici's
 * dispatcher API itself (the gateway's proxy route: bodies pass through as they are, never
 * decoded as fetch would).
 */
export interface Route {
  dispatcher: Dispatcher;
  /** The error a failed request through `dispatcher` stands for: a proxy or TLS failure explained, else `err`. */
  failure(err: unknown): unknown;
}

/** The dispatchers of one Runtime, shared by connections with the same proxy and TLS settings. */
export class Transport {
  private undici?: Promise<Undici>;
  private readonly dispatchers = new Map<string, Promise<Dispatcher>>();
  /** Requests with neither proxy nor TLS settings, for `route` (fetch has its own). */
  private direct?: Promise<Dispatcher>;
  private readonly alerts = new TlsAlerts();

  constructor(
    private readonly base: FetchLike,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** The fetch of connection `conn`: its proxy and TLS settings on every request. */
  fetchFor(conn: NetworkSettings): FetchLike {
    const rules = proxyRules(conn.proxy, this.env);
    const needsDispatcher = mayProxy(rules) || conn.tls !== undefined;
    return async (url, init) => {
      const target = new URL(url);
      const proxy = needsDispatcher ? this.proxyOf(target, rules, conn) : undefined;
      const dispatcher = needsDispatcher ? await this.dispatcher(conn, proxy) : undefined;
      try {
        return await this.base(url, dispatcher ? ({ ...init, dispatcher } as RequestInit) : init);
      } catch (err) {
        const alert = dispatcher ? this.alerts.take(err) : undefined;
        throw networkFailure(err, { target, proxy: proxy && describeProxy(proxy), connection: conn.name, signal: init.signal ?? undefined, tls: conn.tls, alert }) ?? err;
      }
    };
  }

  /** The dispatcher requests of `conn` to `target`'s origin go through: its proxy and TLS settings, keep-alive. */
  async route(conn: NetworkSettings, target: URL): Promise<Route> {
    const rules = proxyRules(conn.proxy, this.env);
    const proxy = mayProxy(rules) ? this.proxyOf(target, rules, conn) : undefined;
    const dispatcher = proxy !== undefined || conn.tls !== undefined ? await this.dispatcher(conn, proxy) : await (this.direct ??= this.loadUndici().then(({ Agent }) => new Agent()));
    return {
      dispatcher,
      failure: (err) => networkFailure(err, { target, proxy: proxy && describeProxy(proxy), connection: conn.name, tls: conn.tls, alert: this.alerts.take(err) }) ?? err,
    };
  }

  /** Closes every connection the dispatchers keep open. */
  async close(): Promise<void> {
    const all = [...this.dispatchers.values(), ...(this.direct ? [this.direct] : [])];
    this.dispatchers.clear();
    this.direct = undefined;
    await Promise.all(all.map((d) => d.then((dispatcher) => dispatcher.close()).catch(() => undefined)));
  }

  private proxyOf(target: URL, rules: ProxyRules, conn: NetworkSettings): string | undefined {
    const proxy = proxyFor(target, rules);
    return proxy === undefined ? undefined : proxyUrl(proxy, conn);
  }

  private dispatcher(conn: NetworkSettings, proxy: string | undefined): Promise<Dispatcher> {
    const key = JSON.stringify([proxy ?? null, conn.tls?.caFile ?? null, conn.tls?.clientCert ?? null, conn.tls?.clientKey ?? null]);
    let dispatcher = this.dispatchers.get(key);
    if (!dispatcher) {
      dispatcher = this.createDispatcher(conn, proxy);
      this.dispatchers.set(key, dispatcher);
      dispatcher.catch(() => this.dispatchers.delete(key));
    }
    return dispatcher;
  }

  private loadUndici(): Promise<Undici> {
    return (this.undici ??= importOptionalPackage(() => import("undici"), "undici", { code: "config_invalid", what: "a proxy or tls setting" }));
  }

  private async createDispatcher(conn: NetworkSettings, proxy: string | undefined): Promise<Dispatcher> {
    const tls = await tlsOptions(conn, this.env);
    const { Agent, ProxyAgent, buildConnector } = await this.loadUndici();
    if (!proxy) {
      const connector = buildConnector({ ...tls });
      const connect: Connector = (options, callback) =>
        connector(options, (...args) => {
          if (args[1]) this.alerts.watch(args[1]);
          callback(...args);
        });
      return new Agent({ connect });
    }
    // proxyTunnel false: http:// targets as absolute-form requests (company proxies often allow
    // CONNECT to port 443 only); https:// targets always through CONNECT.
    return new ProxyAgent({ uri: proxy, proxyTunnel: false, requestTls: tls, proxyTls: tls?.ca ? { ca: tls.ca } : undefined });
  }
}

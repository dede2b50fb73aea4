import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isLoopbackHttpUrl } from "../config/urls.js";
import { TokenSmithError } from "../errors.js";
import { CALLBACK_HEADERS, renderCallbackPage, type CallbackPage } from "./callback-page.js";

/**
 * The loopback listener of the authorization code flow (RFC 8252 §7.3, SPEC §3): it binds the
 * redirect URI's address and port, answers exactly one request on the redirect path (the
 * callback), then closes. Nothing else on this machine's network is opened.
 */

/** SPEC §1: `redirect_uri` defaults to `http://127.0.0.1:<free port>/callback`. */
export const DEFAULT_CALLBACK_PATH = "/callback";
/** For `localhost` with a free port, ::1 must get the port 127.0.0.1 got; another process may hold it, so try again a few times. */
const LOCALHOST_BIND_ATTEMPTS = 5;
/** No IPv6 on this machine: `localhost` is then served on 127.0.0.1 alone. */
const NO_IPV6 = new Set(["EADDRNOTAVAIL", "EAFNOSUPPORT"]);

/** Where to listen for a redirect URI, and the redirect URI to send once the port is known. */
export interface LoopbackPlan {
  /** Addresses to bind: one, or 127.0.0.1 and ::1 for `localhost`. */
  hosts: string[];
  /** 0: a free port, chosen when binding (the URI had none, RFC 8252 §7.3). */
  port: number;
  /** The path the callback arrives on. */
  path: string;
  /** The redirect URI for the port actually bound (the configured one verbatim when it names a port). */
  redirectUri(port: number): string;
  /** The config field errors name, e.g. `connections.crm.redirect_uri`. */
  field: string;
}

/**
 * Reads where to listen from a connection's `redirect_uri` (undefined: the default). A URI that
 * is not plain http on loopback cannot be received here: that is the manual flow's job.
 */
export function planLoopback(redirectUri: string | undefined, connection: string): LoopbackPlan {
  const field = `connections.${connection}.redirect_uri`;
  if (redirectUri === undefined) {
    return { hosts: ["127.0.0.1"], port: 0, path: DEFAULT_CALLBACK_PATH, redirectUri: (port) => `http://127.0.0.1:${port}${DEFAULT_CALLBACK_PATH}`, field };
  }
  const url = new URL(redirectUri);
  if (!isLoopbackHttpUrl(url)) {
    throw new TokenSmithError("usage_error", `redirect_uri ${url.protocol}//${url.host}${url.pathname} is not on this machine: tokensmith cannot receive the redirect there`, {
      connection,
      field,
      hint: `run \`tokensmith login ${connection} --manual\` and paste the URL the browser is redirected to, or register a loopback redirect URI such as http://127.0.0.1:8765/callback`,
    });
  }
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const hosts = host === "localhost" ? ["127.0.0.1", "::1"] : [host];
  const path = url.pathname || "/";
  if (url.port !== "") return { hosts, port: Number(url.port), path, redirectUri: () => redirectUri, field };
  return {
    hosts,
    port: 0,
    path,
    redirectUri: (port) => {
      const withPort = new URL(redirectUri);
      withPort.port = String(port);
      return withPort.toString();
    },
    field,
  };
}

/** The one callback: its query, and the means to answer it. */
export interface CallbackRequest {
  params: URLSearchParams;
  /** Shows the outcome in the browser. The listener closes once it is sent. */
  respond(page: CallbackPage): Promise<void>;
}

/** A bound listener waiting for its callback. */
export interface LoopbackListener {
  /** The redirect URI to put in the authorization request (with the port bound). */
  redirectUri: string;
  /** The first request on the redirect path, whenever it came (even before this was called). */
  callback(): Promise<CallbackRequest>;
  /** Stops listening and drops open connections. Safe to call twice. */
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, page: CallbackPage): Promise<void> {
  return new Promise((resolve) => {
    res.writeHead(status, CALLBACK_HEADERS);
    res.end(renderCallbackPage(page), () => resolve());
    res.once("close", () => resolve());
  });
}

function bind(host: string, port: number, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer(handler);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port, ipv6Only: host.includes(":"), exclusive: true }, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function portError(err: unknown, plan: LoopbackPlan, host: string, port: number, connection?: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== "EADDRINUSE" && code !== "EACCES") return err;
  const why = code === "EADDRINUSE" ? "is in use by another program" : "may not be used by this user (permission denied)";
  return new TokenSmithError("port_in_use", `port ${port} of redirect_uri (${host}) ${why}: cannot listen for the login's redirect`, {
    connection,
    field: plan.field,
    hint: "stop the program using it, or change redirect_uri to another port (registered with the provider as well)",
    cause: err,
  });
}

/** Binds every host of the plan on one port: the configured one, or a free one shared by all. */
async function bindAll(plan: LoopbackPlan, handler: (req: IncomingMessage, res: ServerResponse) => void, connection?: string): Promise<Server[]> {
  const attempts = plan.port === 0 && plan.hosts.length > 1 ? LOCALHOST_BIND_ATTEMPTS : 1;
  for (let attempt = 1; ; attempt++) {
    const servers: Server[] = [];
    let port = plan.port;
    try {
      for (const host of plan.hosts) {
        try {
          const server = await bind(host, port, handler);
          servers.push(server);
          port = (server.address() as AddressInfo).port;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? "";
          if (servers.length > 0 && NO_IPV6.has(code)) continue;
          throw portError(err, plan, host, port, connection);
        }
      }
      return servers;
    } catch (err) {
      await Promise.all(servers.map(closeServer));
      const retry = attempt < attempts && err instanceof TokenSmithError && err.code === "port_in_use";
      if (!retry) throw err;
    }
  }
}

/**
 * Starts the listener. A busy configured port is `port_in_use` naming the port and the field
 * `redirect_uri` (exit 2); a free port is chosen when the URI names none.
 */
export async function listenLoopback(plan: LoopbackPlan, options: { connection?: string } = {}): Promise<LoopbackListener> {
  let deliver!: (request: CallbackRequest) => void;
  const arrived = new Promise<CallbackRequest>((resolve) => (deliver = resolve));
  let received = false;
  let servers: Server[] = [];
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= Promise.all(servers.map(closeServer)).then(() => undefined));

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname !== plan.path) {
      void send(res, 404, { ok: false, title: "Not found", message: "This address only receives the login's redirect." });
      return;
    }
    if (req.method !== "GET" || received) {
      const message = received ? "This login has already received its redirect; start a new login to try again." : "Only the browser's redirect is accepted here.";
      void send(res, received ? 410 : 405, { ok: false, title: "Not accepted", message });
      return;
    }
    received = true;
    deliver({
      params: url.searchParams,
      respond: async (page) => {
        await send(res, page.ok ? 200 : 400, page);
        await close();
      },
    });
  };

  servers = await bindAll(plan, handler, options.connection);
  const port = (servers[0].address() as AddressInfo).port;
  return { redirectUri: plan.redirectUri(port), callback: () => arrived, close };
}

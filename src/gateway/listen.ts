import { createServer as createHttpServer, type RequestListener, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { isLoopbackHost } from "../config/urls.js";
import { TokenSmithError } from "../errors.js";
import { redact } from "../redact.js";

/**
 * Binding the gateway's socket (SPEC §5): plain HTTP on loopback, HTTPS (required) anywhere
 * else; a busy port is `port_in_use` (exit 2), never a stack trace.
 */

/** How long `close` lets requests in flight finish before cutting their connections. */
const CLOSE_GRACE_MS = 5_000;

/** A bound socket, answering nothing until `serve` gives it a handler. */
export interface Listening {
  server: Server;
  port: number;
  /** Starts answering requests with `handler`. */
  serve(handler: RequestListener): void;
  /** Stops accepting, ends idle keep-alive connections and waits for the rest. */
  close(): Promise<void>;
}

/** What a busy port's error names: where the port came from, and what to do. */
export interface BusyPort {
  field?: string;
  hint: string;
}

/** `tokensmith serve`'s (the default). */
const SERVE_BUSY: BusyPort = { field: "gateway.port", hint: "is another `tokensmith serve` running? choose another port with --port or gateway.port" };

/** `tokensmith proxy`'s: its port comes from `--port` only. */
export const PROXY_BUSY: BusyPort = { hint: "is another `tokensmith proxy` running? choose another port with --port, or leave --port out for a free one" };

/** Refuses a non-loopback bind without TLS: tokens would cross the network in clear text. */
export function checkBind(host: string, tls: boolean): void {
  if (tls || isLoopbackHost(host)) return;
  throw new TokenSmithError("config_invalid", `binding a non-loopback address (${host}) needs gateway.tls`, {
    field: "gateway.tls",
    hint: "add gateway.tls: {cert: ..., key: ...}, or bind 127.0.0.1 and put a TLS proxy in front",
  });
}

/**
 * Listens on host:port; HTTPS when `tls` is given. Attach the handler with `serve` once the
 * port is known (the handler needs its own URL): no request can arrive before that, as
 * nothing but promise callbacks run in between.
 */
export async function listen(host: string, port: number, tls?: { cert: string; key: string }, busy: BusyPort = SERVE_BUSY): Promise<Listening> {
  checkBind(host, !!tls);
  const server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }) : createHttpServer();
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      reject(bindError(err, host, port, busy));
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host.replace(/^\[(.*)\]$/, "$1"));
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    serve: (handler) => void server.on("request", handler),
    close: () =>
      new Promise<void>((resolve) => {
        // A request still waiting on a slow authorization server gets a grace period, then is cut.
        const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        cut.unref();
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

function bindError(err: NodeJS.ErrnoException, host: string, port: number, busy: BusyPort): TokenSmithError {
  if (err.code === "EADDRINUSE") return new TokenSmithError("port_in_use", `port ${port} on ${host} is already in use`, { ...busy, cause: err });
  if (err.code === "EACCES") {
    return new TokenSmithError("port_in_use", `not allowed to listen on port ${port} on ${host}`, {
      field: busy.field,
      hint: "ports below 1024 need privileges; use a higher port",
      cause: err,
    });
  }
  if (err.code === "EADDRNOTAVAIL" || err.code === "ENOTFOUND" || err.code === "EAI_AGAIN") {
    return new TokenSmithError("config_invalid", `cannot listen on ${host}: no such address on this machine`, {
      field: "gateway.host",
      hint: "use 127.0.0.1 (the default), or an address of this machine",
      cause: err,
    });
  }
  return new TokenSmithError("unexpected", `cannot listen on ${host}:${port}: ${redact(err.message)}`, { cause: err });
}

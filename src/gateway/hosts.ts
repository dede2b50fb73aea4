import { isIP } from "node:net";
import { isLoopbackHost } from "../config/urls.js";

/**
 * DNS-rebinding defence (SPEC §5): a page on evil.example whose name is made to resolve to
 * 127.0.0.1 reaches the gateway with `Host: evil.example`, so only requests whose Host
 * header names the address the gateway is bound to are answered. On a loopback bind
 * `localhost` and the loopback IP literals are accepted too: browsers resolve `localhost` to
 * this machine, never via DNS, and an IP literal involves no name that could be rebound.
 * On a wildcard bind (0.0.0.0, ::), which SPEC §5 allows only with TLS, any name is
 * accepted: a rebound name would fail the TLS certificate check before any request is made.
 */

const WILDCARDS = new Set(["0.0.0.0", "::", "[::]"]);

/** `host:port` as it appears in URLs and Host headers (IPv6 in brackets). */
export function hostPort(host: string, port: number): string {
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  return isIP(bare) === 6 ? `[${bare}]:${port}` : `${bare}:${port}`;
}

/** The origin of the gateway, e.g. `http://127.0.0.1:7373`. */
export function baseUrl(host: string, port: number, tls: boolean): string {
  const shown = WILDCARDS.has(host) ? (host.includes(":") ? "::1" : "127.0.0.1") : host;
  return `${tls ? "https" : "http"}://${hostPort(shown, port)}`;
}

/** A Host header's name (IPv6 in brackets) and port (undefined when it names none). */
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d+))?$/;

/**
 * A checker for Host headers, for a gateway bound to `host:port`. On a loopback bind any
 * loopback name is the bound address: `localhost` (browsers never ask DNS for it) and the
 * loopback IP literals, which no rebound name can be.
 */
export function hostChecker(host: string, port: number): (header: string | undefined) => boolean {
  if (WILDCARDS.has(host)) return (header) => header !== undefined && header.length > 0;
  const bound = hostPort(host, port).toLowerCase().replace(/:\d+$/, "");
  const loopback = isLoopbackHost(host);
  // Clients omit the port only when it is the scheme's default.
  const defaultPort = port === 80 || port === 443;
  return (header) => {
    const match = HOST_HEADER.exec((header ?? "").toLowerCase());
    if (!match) return false;
    const [, name, given] = match;
    if (given === undefined ? !defaultPort : Number(given) !== port) return false;
    return name === bound || (loopback && isLoopbackHost(name));
  };
}

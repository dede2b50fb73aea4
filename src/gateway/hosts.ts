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
 * `gateway.hosts` adds names the user vouches for, typically the DNS name in the TLS
 * certificate of a gateway bound to an IP address: a name the user controls cannot be
 * rebound by someone else.
 */

const WILDCARDS = new Set(["0.0.0.0", "::", "[::]"]);

/** `host:port` as it appears in URLs and Host headers (IPv6 in brackets). */
export function hostPort(host: string, port: number): string {
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  return isIP(bare) === 6 ? `[${bare}]:${port}` : `${bare}:${port}`;
}

/**
 * The origin of the gateway, e.g. `http://127.0.0.1:7373`. Under TLS the first of
 * `gateway.hosts` names it: that is the name the certificate is for, so the printed URLs
 * (sign-in, the dashboard's `/callback`) pass the browser's certificate check.
 */
export function baseUrl(host: string, port: number, tls: boolean, hosts: readonly string[] = []): string {
  const shown = tls && hosts.length > 0 ? hosts[0] : WILDCARDS.has(host) ? (host.includes(":") ? "::1" : "127.0.0.1") : host;
  return `${tls ? "https" : "http"}://${hostPort(shown, port)}`;
}

/** A Host header's name (IPv6 in brackets) and port (undefined when it names none). */
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d+))?$/;

/**
 * A checker for Host headers, for a gateway bound to `host:port`. On a loopback bind any
 * loopback name is the bound address: `localhost` (browsers never ask DNS for it) and the
 * loopback IP literals, which no rebound name can be. `hosts` (`gateway.hosts`) are more
 * names accepted, with the same port rule.
 */
export function hostChecker(host: string, port: number, hosts: readonly string[] = []): (header: string | undefined) => boolean {
  if (WILDCARDS.has(host)) return (header) => header !== undefined && header.length > 0;
  const bound = hostPort(host, port).toLowerCase().replace(/:\d+$/, "");
  const extra = new Set(hosts.map((name) => hostPort(name, port).toLowerCase().replace(/:\d+$/, "")));
  const loopback = isLoopbackHost(host);
  // Clients omit the port only when it is the scheme's default.
  const defaultPort = port === 80 || port === 443;
  return (header) => {
    const match = HOST_HEADER.exec((header ?? "").toLowerCase());
    if (!match) return false;
    const [, name, given] = match;
    if (given === undefined ? !defaultPort : Number(given) !== port) return false;
    return name === bound || extra.has(name) || (loopback && isLoopbackHost(name));
  };
}

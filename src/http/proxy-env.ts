/**
 * Which proxy a request goes through (SPEC §1 `proxy`, §2.13): the connection's or the
 * top-level `proxy:` setting, else `HTTPS_PROXY` / `HTTP_PROXY` by the target's scheme; in
 * both cases not for a host `NO_PROXY` lists; never with `proxy: none`. Pure, so the rules are
 * tested without a network. Lowercase variables win over uppercase ones, as curl and undici do.
 */

import { registerSecret } from "../redact.js";

/** What decides a request's proxy: the `proxy:` setting and the environment's variables. */
export interface ProxyRules {
  /** `none`, a proxy URL, or undefined for the environment's variables. */
  setting?: string;
  httpProxy?: string;
  httpsProxy?: string;
  noProxy?: string;
}

function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name.toLowerCase()] ?? env[name.toUpperCase()];
  return value?.trim() || undefined;
}

/** The proxy rules of a connection whose `proxy` setting is `setting`, in environment `env`. */
export function proxyRules(setting: string | undefined, env: NodeJS.ProcessEnv): ProxyRules {
  return { setting, httpProxy: envValue(env, "http_proxy"), httpsProxy: envValue(env, "https_proxy"), noProxy: envValue(env, "no_proxy") };
}

/** True when any request of a connection with these rules may go through a proxy. */
export function mayProxy(rules: ProxyRules): boolean {
  if (rules.setting === "none") return false;
  return Boolean(rules.setting ?? rules.httpProxy ?? rules.httpsProxy);
}

const DEFAULT_PORTS: Record<string, string> = { "http:": "80", "https:": "443" };

/**
 * Whether `NO_PROXY` (comma- or space-separated) exempts `url`: `*` exempts every host; an
 * entry matches the host itself and its subdomains (`example.com`, `.example.com` and
 * `*.example.com` alike), and with a `:port` only that port. IP addresses match exactly.
 */
export function bypassesProxy(url: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, "");
  const port = url.port || DEFAULT_PORTS[url.protocol] || "";
  for (const raw of noProxy.split(/[\s,]+/)) {
    let entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === "*") return true;
    let entryPort: string | undefined;
    const withPort = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
    if (withPort) [, entry, entryPort] = withPort;
    entry = entry.replace(/^\[|\]$/g, "").replace(/^\*?\./, "");
    if (entryPort && entryPort !== port) continue;
    if (host === entry || host.endsWith(`.${entry}`)) return true;
  }
  return false;
}

/** The proxy URL for a request to `url`, or undefined to go direct. */
export function proxyFor(url: URL, rules: ProxyRules): string | undefined {
  if (rules.setting === "none") return undefined;
  const proxy = rules.setting ?? (url.protocol === "https:" ? (rules.httpsProxy ?? rules.httpProxy) : rules.httpProxy);
  if (!proxy || bypassesProxy(url, rules.noProxy)) return undefined;
  return proxy;
}

/** A proxy URL as it may be shown: scheme, host and port, never its user name or password. */
export function describeProxy(proxy: string): string {
  try {
    const url = new URL(proxy);
    return `${url.protocol}//${url.host}`;
  } catch {
    return "(the proxy URL, which does not parse)";
  }
}

/** Proxy credentials are secrets (SPEC §1): as written, decoded, and as the Basic header carries them. */
export function registerProxyCredentials(url: URL): void {
  if (!url.password) return;
  const decode = (value: string) => {
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  };
  const user = decode(url.username);
  const password = decode(url.password);
  registerSecret(url.password);
  registerSecret(password);
  registerSecret(`${user}:${password}`);
  registerSecret(Buffer.from(`${user}:${password}`).toString("base64"));
}

/**
 * The URL rules every layer shares (SPEC §2.13): what "this machine" is, and when plain http
 * is refused. The config checks (config/urls.ts), the protocol's endpoint checks
 * (protocol/urls.ts), the login listener and the transport all ask here; this module imports
 * nothing.
 */

/** An IPv4 address in 127.0.0.0/8 (node:net's isIP would load the whole net module at start). */
const LOOPBACK_V4 = /^127\.(25[0-5]|2[0-4]\d|1?\d?\d)\.(25[0-5]|2[0-4]\d|1?\d?\d)\.(25[0-5]|2[0-4]\d|1?\d?\d)$/;

/** 127.0.0.0/8, ::1 and `localhost`: the only hosts plain http may reach by default. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (bare === "localhost" || bare === "::1") return true;
  return LOOPBACK_V4.test(bare);
}

/** A plain-http URL on this machine: the only kind of redirect URI `login` can listen on. */
export function isLoopbackHttpUrl(url: URL): boolean {
  return url.protocol === "http:" && isLoopbackHost(url.hostname);
}

/** True when a URL is plain http to a host other than loopback (worth a warning when allowed). */
export function isInsecureHttp(url: URL): boolean {
  return url.protocol === "http:" && !isLoopbackHost(url.hostname);
}

/** The https rule: plain http off loopback is refused unless the user accepted it (`allow_insecure_http`). */
export function refusesPlainHttp(url: URL, allowInsecureHttp: boolean): boolean {
  return isInsecureHttp(url) && !allowInsecureHttp;
}

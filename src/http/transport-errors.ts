import { TokenSmithError } from "../errors.js";
import { describeUrl } from "./origins.js";

/**
 * Proxy and TLS failures as errors a user can act on (SPEC §1 `proxy`, `tls`): fetch says
 * "fetch failed"; its cause's code says whether the proxy could not be reached or refused the
 * tunnel, or which check of the server's certificate failed — and so which setting fixes it.
 */

/** What went wrong, and the fix, for each certificate check Node reports by code. */
const CERTIFICATE_PROBLEMS: Record<string, { problem: string; fix: string }> = {
  SELF_SIGNED_CERT_IN_CHAIN: { problem: "self-signed certificate in the chain", fix: "set tls.ca_file to the CA certificate that signed it (your company's root CA, PEM)" },
  DEPTH_ZERO_SELF_SIGNED_CERT: { problem: "self-signed certificate", fix: "set tls.ca_file to that certificate (PEM)" },
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: { problem: "certificate signed by an unknown CA", fix: "set tls.ca_file to the CA certificate that signed it (PEM)" },
  UNABLE_TO_GET_ISSUER_CERT: { problem: "certificate signed by an unknown CA", fix: "set tls.ca_file to the CA certificate that signed it (PEM)" },
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: { problem: "unable to verify the certificate (its CA is unknown or the server omits an intermediate)", fix: "set tls.ca_file to the CA certificate (PEM), with any intermediate" },
  CERT_HAS_EXPIRED: { problem: "certificate expired", fix: "the server's certificate must be renewed (or this machine's clock is wrong)" },
  CERT_NOT_YET_VALID: { problem: "certificate not yet valid", fix: "check this machine's clock" },
  ERR_TLS_CERT_ALTNAME_INVALID: { problem: "hostname mismatch: the certificate is not for this host", fix: "use the host name the certificate was issued for" },
  CERT_REVOKED: { problem: "certificate revoked", fix: "the server's certificate must be replaced" },
};

/** Alerts of a server that wants (another) client certificate (mutual TLS). */
const CLIENT_CERTIFICATE_ALERTS: Record<string, string> = {
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: "the server requires a client certificate",
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: "the server refused the client certificate",
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: "the server does not trust the client certificate's CA",
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: "the server refused the client certificate",
  ERR_SSL_TLSV1_ALERT_ACCESS_DENIED: "the server refused the client certificate",
};

/** Failures to reach the proxy itself (a request through a proxy never connects to its target). */
const CONNECT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "EPIPE"]);
const CONNECT_TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "ETIMEDOUT"]);
/** undici's words when the proxy answers CONNECT with anything but 200. */
const TUNNEL_REFUSED = /Proxy response \((\d{3})\)/;

export interface FailureContext {
  target: URL;
  /** The proxy the request went through, as shown (no credentials). */
  proxy?: string;
  connection: string;
  signal?: AbortSignal;
  tls?: { clientCert?: string };
  /** A TLS alert the server sent on the failed socket (transport.ts TlsAlerts). */
  alert?: string;
}

function causes(err: unknown): { codes: string[]; messages: string[] } {
  const codes: string[] = [];
  const messages: string[] = [];
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
    if (e instanceof Error) messages.push(e.message);
    for (const inner of (e as { errors?: unknown[] }).errors ?? []) {
      const c = (inner as { code?: unknown }).code;
      if (typeof c === "string") codes.push(c);
    }
  }
  return { codes, messages };
}

/**
 * The TokenSmithError for a failed send through the transport, when its cause is a proxy or
 * TLS failure; undefined otherwise (the caller's own classification applies, e.g. timeouts).
 */
export function networkFailure(err: unknown, ctx: FailureContext): TokenSmithError | undefined {
  if (err instanceof TokenSmithError || ctx.signal?.aborted) return undefined;
  const { codes, messages } = causes(err);
  if (ctx.alert) codes.unshift(ctx.alert);
  const host = ctx.target.host;
  const target = describeUrl(ctx.target);
  const options = { connection: ctx.connection, url: target, cause: err };
  for (const code of codes) {
    const certificate = CERTIFICATE_PROBLEMS[code];
    if (certificate) {
      return new TokenSmithError("network_error", `TLS with ${host} failed: ${certificate.problem}: ${certificate.fix}`, { ...options, hint: certificate.fix });
    }
    const alert = CLIENT_CERTIFICATE_ALERTS[code];
    if (alert) {
      const fix = ctx.tls?.clientCert ? "check that tls.client_cert is the certificate registered for this client, and tls.client_key its key" : "set tls.client_cert and tls.client_key (mutual TLS)";
      return new TokenSmithError("network_error", `TLS with ${host} failed: ${alert}: ${fix}`, { ...options, hint: fix });
    }
  }
  if (!ctx.proxy) return undefined;
  const hint = "check the proxy setting (proxy:, HTTPS_PROXY / HTTP_PROXY), or list this host in NO_PROXY (or set proxy: none) to go direct";
  const refused = messages.map((m) => TUNNEL_REFUSED.exec(m)).find(Boolean);
  if (refused) {
    const status = Number(refused[1]);
    const why = status === 407 ? "proxy authentication required: put the credentials in the proxy URL (http://user:password@host:port)" : `HTTP ${status}`;
    return new TokenSmithError("network_error", `the proxy ${ctx.proxy} refused to connect to ${host} (${why})`, { ...options, status, hint });
  }
  const code = codes.find((c) => CONNECT_CODES.has(c) || CONNECT_TIMEOUT_CODES.has(c));
  if (code) {
    const kind = CONNECT_TIMEOUT_CODES.has(code) ? "timeout" : "network_error";
    return new TokenSmithError(kind, `cannot reach the proxy ${ctx.proxy} (${code}) for ${target}`, { ...options, hint });
  }
  return undefined;
}

/**
 * The one classifier of failed sends (SPEC §2.13): a timeout and a network failure are told
 * apart, and the socket-level code is named in words. Used by the protocol sender, the
 * authorized fetch, and the network stores (which retry the transient errnos). Imports nothing.
 */

/** Socket-level error codes worth naming in a message, as Node and undici report them. */
export const NETWORK_CAUSES: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found (DNS)",
  EAI_AGAIN: "DNS lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EPIPE: "connection closed while sending",
  UND_ERR_SOCKET: "connection closed by the server",
  CERT_HAS_EXPIRED: "TLS certificate expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "self-signed TLS certificate",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "TLS certificate not trusted",
};

/** undici's and Node's names for "no answer in time": a timeout, not a network error. */
export const TIMEOUT_CODES: ReadonlySet<string> = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "ETIMEDOUT"]);

/** Errnos of a connection that failed or dropped and may work when tried again (the network stores retry them). */
export const TRANSIENT_ERRNO: ReadonlySet<string> = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);

/**
 * Codes of a socket the other side closed or reset: on a kept-alive connection, the server's
 * close crossed the request (the proxy sends a replayable request once more on a fresh one).
 */
export const DROPPED_SOCKET: ReadonlySet<string> = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET"]);

/** How deep `cause` chains are followed: fetch wraps the socket error once or twice. */
const MAX_CAUSE_DEPTH = 4;

/** The first string `code` on an error or its causes (fetch says only "fetch failed"; its cause says what happened). */
export function errorCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < MAX_CAUSE_DEPTH; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

/** The innermost message along the cause chain, for a failure without a known code. */
function innermostMessage(err: unknown): string | undefined {
  let message: string | undefined;
  for (let e = err, depth = 0; e && depth < MAX_CAUSE_DEPTH; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof Error && e.message) message = e.message;
  }
  return message;
}

export interface NetworkFailure {
  kind: "timeout" | "network";
  code?: string;
  /**
   * What happened, in words: the named cause, else the code, else the innermost message
   * (untrusted text: the caller redacts it before it enters a message).
   */
  reason: string;
}

/** Classifies a failed send; `timedOut` is the caller's own deadline having fired. */
export function classifyNetworkError(err: unknown, timedOut = false): NetworkFailure {
  const code = errorCode(err);
  if (timedOut || (code !== undefined && TIMEOUT_CODES.has(code))) return { kind: "timeout", code, reason: code ?? "no answer in time" };
  return { kind: "network", code, reason: (code && NETWORK_CAUSES[code]) ?? code ?? innermostMessage(err) ?? "request failed" };
}

import type { FetchLike } from "../protocol/types.js";
import { redact } from "../redact.js";

/**
 * `tokensmith call -v`: a trace on stderr of every request this run sends (the API call, its
 * redirect hops and retries, and any token request it needed) and of each response's status
 * and headers, as curl -v shows them (`>` out, `<` in). Never a secret: the token is shown as
 * its scheme, `…` and its last 4 characters (enough to tell two tokens apart); Basic
 * credentials, cookies and any header named like a key, token, secret or session are
 * `[redacted]`; every other value and the URL go through `redact()`. Bodies are not shown.
 */
export class CallTrace {
  /** Headers that carry the connection's token; the connection's own `header.name` is added once known. */
  private readonly tokenHeaders = new Set(["authorization"]);

  constructor(private readonly write: (text: string) => void) {}

  /** The connection's token header (`header: {name: X-Api-Key}`), shown like Authorization. */
  addTokenHeader(name: string): void {
    this.tokenHeaders.add(name.toLowerCase());
  }

  /** `fetch` that traces what goes through it. */
  wrap(inner: FetchLike): FetchLike {
    return async (url, init) => {
      this.request(url, init);
      const response = await inner(url, init);
      this.response(response);
      return response;
    };
  }

  private request(url: string, init: RequestInit): void {
    const lines = [`> ${(init.method ?? "GET").toUpperCase()} ${showUrl(url)}`];
    for (const [name, value] of new Headers(init.headers)) lines.push(`> ${name}: ${this.showHeader(name, value)}`);
    this.write(`${lines.join("\n")}\n`);
  }

  private response(response: Response): void {
    const lines = [`< ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`];
    for (const [name, value] of response.headers) if (name !== "set-cookie") lines.push(`< ${name}: ${this.showHeader(name, value)}`);
    for (const _ of response.headers.getSetCookie()) lines.push(`< set-cookie: [redacted]`);
    this.write(`${lines.join("\n")}\n`);
  }

  private showHeader(name: string, value: string): string {
    if (this.tokenHeaders.has(name)) return showCredential(value);
    if (name !== "www-authenticate" && SECRET_HEADER.test(name)) return "[redacted]";
    return redact(value);
  }
}

/** Header names whose values are secrets: cookies, keys, tokens, sessions, signatures, other credentials. */
const SECRET_HEADER = /cookie|key|token|secret|passw|session|signature|credential|auth/i;

/** Characters of a token shown in the trace (SPEC §3): enough to tell two tokens apart, never enough to use. */
const SHOWN_TAIL = 4;
/** A token shorter than this shows no tail at all: 4 characters would be too much of it. */
const MIN_LENGTH_FOR_TAIL = 12;
/** A run of token characters (RFC 6750 b64token) this long in a token header is taken for the token. */
const CREDENTIAL = /[A-Za-z0-9\-._~+/=]{8,}/g;

/**
 * A token header's value with the token cut to `…` and its last 4 characters (`Bearer …x7Qz`);
 * Basic (client credentials) and values with nothing like a token in them are not shown at all.
 */
export function showCredential(value: string): string {
  if (/^\s*basic\b/i.test(value)) return "Basic [redacted]";
  let shown = false;
  const out = value.replace(CREDENTIAL, (credential) => {
    shown = true;
    return credential.length >= MIN_LENGTH_FOR_TAIL ? `…${credential.slice(-SHOWN_TAIL)}` : "…";
  });
  return shown ? out : "[redacted]";
}

/** The URL without any user info, redacted (a `?key=` or `?token=` in it included). */
function showUrl(text: string): string {
  try {
    const url = new URL(text);
    url.username = "";
    url.password = "";
    return redact(url.href);
  } catch {
    return redact(text);
  }
}

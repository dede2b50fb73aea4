import type { ResolvedConnection } from "../config/types.js";
import { TokenSmithError } from "../errors.js";
import { registerSecret } from "../redact.js";
import { clientAuthentication } from "./client-auth.js";
import { oauthError, oauthErrorFields } from "./oauth-error.js";
import { prepareRequest } from "./request.js";
import { invalidResponse, parseBody } from "./response.js";
import { connectionError, sendTokenRequest } from "./send.js";
import type { Endpoints, PreparedRequest, ProtocolDeps, ReceivedResponse } from "./types.js";
import { checkEndpointUrl, fieldPath } from "./urls.js";

/** Token revocation (RFC 7009). */
const WHAT = "revocation endpoint";

export type TokenTypeHint = "access_token" | "refresh_token";

export interface RevocationInput {
  token: string;
  tokenTypeHint?: TokenTypeHint;
}

/**
 * `unsupported_token_type` (RFC 7009 §2.2.1) is a result, not an error: the server cannot
 * revoke that kind of token (often access tokens), and `tokensmith revoke` only warns.
 */
export type RevocationResult = { outcome: "revoked" } | { outcome: "unsupported_token_type"; errorDescription?: string };

/** The revocation URL, checked; none at all is `not_supported` ("use logout", SPEC §3). */
export function revocationEndpoint(conn: ResolvedConnection, endpoints: Endpoints): string {
  const field = fieldPath(conn.name, "revocation_url");
  if (!endpoints.revocationUrl) {
    throw new TokenSmithError("not_supported", `connection ${conn.name} has no revocation endpoint`, {
      field,
      connection: conn.name,
      hint: `set revocation_url if the provider has one, or use "tokensmith logout ${conn.name}" to drop the local state only`,
    });
  }
  return checkEndpointUrl(endpoints.revocationUrl, { field, allowInsecureHttp: conn.allowInsecureHttp });
}

/** RFC 7009 §2.1: token and token_type_hint, authenticated like a token request, always a form body. */
export async function buildRevocationRequest(
  conn: ResolvedConnection,
  endpoints: Endpoints,
  input: RevocationInput,
  options: { now: () => number },
): Promise<PreparedRequest> {
  const url = revocationEndpoint(conn, endpoints);
  registerSecret(input.token, { rotating: true });
  const auth = await clientAuthentication(conn, endpoints, options);
  return prepareRequest(url, { token: input.token, token_type_hint: input.tokenTypeHint }, { auth, headers: conn.tokenHeaders });
}

/** 2xx means revoked (also for tokens the server no longer knows, §2.2); errors throw. */
export function processRevocationResponse(response: ReceivedResponse, options: { now?: () => number } = {}): RevocationResult {
  const parsed = parseBody(response, WHAT);
  const error = oauthErrorFields(parsed);
  if (error?.error === "unsupported_token_type") return { outcome: "unsupported_token_type", errorDescription: error.errorDescription };
  if (error) throw oauthError(WHAT, response, error, options.now);
  if (response.status >= 200 && response.status < 300) return { outcome: "revoked" };
  throw invalidResponse(WHAT, response, parsed, { now: options.now });
}

/** Build, send, process one revocation. */
export async function revokeToken(conn: ResolvedConnection, endpoints: Endpoints, input: RevocationInput, deps: ProtocolDeps): Promise<RevocationResult> {
  try {
    const request = await buildRevocationRequest(conn, endpoints, input, { now: deps.now });
    const response = await sendTokenRequest(request, { fetch: deps.fetch, timeoutMs: deps.timeoutMs ?? conn.timeoutMs, signal: deps.signal, now: deps.now, what: WHAT });
    return processRevocationResponse(response, { now: deps.now });
  } catch (err) {
    throw connectionError(err, conn, deps.signal);
  }
}

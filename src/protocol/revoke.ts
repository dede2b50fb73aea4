import { oauthError, oauthErrorFields } from "./oauth-error.js";
import { clientRequest } from "./request.js";
import { invalidResponse, parseBody } from "./response.js";
import { exchange } from "./send.js";
import type { Endpoints, OAuthClient, PreparedRequest, ProtocolDeps, ReceivedResponse } from "./types.js";
import { requiredEndpoint } from "./urls.js";

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
export function revocationEndpoint(client: Pick<OAuthClient, "name" | "options">, endpoints: Endpoints): string {
  return requiredEndpoint(client, endpoints.revocationUrl, {
    setting: "revocation_url",
    noun: "revocation endpoint",
    code: "not_supported",
    hint: `set revocation_url if the provider has one, or use "tokensmith logout ${client.name}" to drop the local state only`,
  });
}

/** RFC 7009 §2.1: token and token_type_hint, authenticated like a token request, always a form body. */
export async function buildRevocationRequest(
  client: OAuthClient,
  endpoints: Endpoints,
  input: RevocationInput,
  options: { now: () => number },
): Promise<PreparedRequest> {
  const url = revocationEndpoint(client, endpoints);
  return clientRequest(client, url, { token: input.token, token_type_hint: input.tokenTypeHint }, { endpoints, now: options.now });
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
export async function revokeToken(client: OAuthClient, endpoints: Endpoints, input: RevocationInput, deps: ProtocolDeps): Promise<RevocationResult> {
  return exchange(client, deps, {
    what: WHAT,
    build: () => buildRevocationRequest(client, endpoints, input, { now: deps.now }),
    secrets: [input.token],
    process: (response) => processRevocationResponse(response, { now: deps.now }),
  });
}

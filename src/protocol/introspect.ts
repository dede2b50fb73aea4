import { oauthError, oauthErrorFields } from "./oauth-error.js";
import { clientRequest } from "./request.js";
import { SECRET_KEY, invalidResponse, parseBody } from "./response.js";
import { exchange } from "./send.js";
import type { Endpoints, OAuthClient, PreparedRequest, ProtocolDeps, ReceivedResponse } from "./types.js";
import { requiredEndpoint } from "./urls.js";
import type { TokenTypeHint } from "./revoke.js";

/** Token introspection (RFC 7662): is a token active, and what does the server know of it. */
const WHAT = "introspection endpoint";

export interface IntrospectionResult {
  active: boolean;
  scope?: string;
  clientId?: string;
  username?: string;
  tokenType?: string;
  sub?: string;
  iss?: string;
  aud?: string | string[];
  /** From `exp`, epoch ms. */
  expiresAtMs?: number;
  /** Every member of the response except secret-named ones (RFC 7662 §2.2 allows extensions). */
  claims: Record<string, unknown>;
}

const MS_PER_S = 1000;

export function introspectionEndpoint(client: Pick<OAuthClient, "name" | "options">, endpoints: Endpoints): string {
  return requiredEndpoint(client, endpoints.introspectionUrl, {
    setting: "introspection_url",
    noun: "introspection endpoint",
    code: "not_supported",
    hint: "set introspection_url if the provider has one",
  });
}

/** RFC 7662 §2.1: token and optional token_type_hint, with client authentication. */
export async function buildIntrospectionRequest(
  client: OAuthClient,
  endpoints: Endpoints,
  input: { token: string; tokenTypeHint?: TokenTypeHint },
  options: { now: () => number },
): Promise<PreparedRequest> {
  const url = introspectionEndpoint(client, endpoints);
  return clientRequest(client, url, { token: input.token, token_type_hint: input.tokenTypeHint }, { endpoints, now: options.now });
}

const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

/** RFC 7662 §2.2: a JSON object with a boolean `active`; anything else is `invalid_response`. */
export function processIntrospectionResponse(response: ReceivedResponse, options: { now?: () => number } = {}): IntrospectionResult {
  const parsed = parseBody(response, WHAT);
  const error = oauthErrorFields(parsed);
  if (error) throw oauthError(WHAT, response, error, options.now);
  if (response.status < 200 || response.status >= 300) throw invalidResponse(WHAT, response, parsed, { now: options.now });
  if (parsed.kind !== "object" || typeof parsed.value.active !== "boolean") {
    throw invalidResponse(WHAT, response, parsed, { problem: "no boolean `active` member (not an RFC 7662 response)" });
  }
  const body = parsed.value;
  const claims = Object.fromEntries(Object.entries(body).filter(([key]) => !SECRET_KEY.test(key)));
  const aud = typeof body.aud === "string" || (Array.isArray(body.aud) && body.aud.every((a) => typeof a === "string")) ? (body.aud as string | string[]) : undefined;
  return {
    active: body.active as boolean,
    scope: str(body.scope),
    clientId: str(body.client_id),
    username: str(body.username),
    tokenType: str(body.token_type),
    sub: str(body.sub),
    iss: str(body.iss),
    aud,
    expiresAtMs: typeof body.exp === "number" ? body.exp * MS_PER_S : undefined,
    claims,
  };
}

/** Build, send, process one introspection. */
export async function introspectToken(
  client: OAuthClient,
  endpoints: Endpoints,
  input: { token: string; tokenTypeHint?: TokenTypeHint },
  deps: ProtocolDeps,
): Promise<IntrospectionResult> {
  return exchange(client, deps, {
    what: WHAT,
    build: () => buildIntrospectionRequest(client, endpoints, input, { now: deps.now }),
    secrets: [input.token],
    process: (response) => processIntrospectionResponse(response, { now: deps.now }),
  });
}

import { stripControls } from "../redact.js";
import { oauthError, oauthErrorFields } from "./oauth-error.js";
import { announceSecrets, clientRequest } from "./request.js";
import { invalidResponse, parseBody } from "./response.js";
import { exchange } from "./send.js";
import { audienceParams, buildTokenRequest, scopeParam } from "./token-request.js";
import { processTokenResponse } from "./token-response.js";
import type { Endpoints, OAuthClient, PreparedRequest, ProtocolDeps, ReceivedResponse, TokenSet } from "./types.js";
import { requiredEndpoint } from "./urls.js";

/** The device authorization grant (RFC 8628): the request for a user code, and the polls. */
const WHAT = "device authorization endpoint";

/** RFC 8628 §3.2: poll every 5 s when the server names no interval. */
export const DEFAULT_DEVICE_INTERVAL_MS = 5_000;
/** RFC 8628 §3.5: each `slow_down` adds 5 s to the interval, for the rest of the login. */
export const SLOW_DOWN_INCREMENT_MS = 5_000;
const MS_PER_S = 1000;

export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  /** How long the codes stay valid, ms from the request. */
  expiresInMs: number;
  intervalMs: number;
}

/** One poll's outcome. Only unexpected errors throw; the RFC's own poll answers are values. */
export type DevicePollResult =
  | { status: "authorized"; tokens: TokenSet }
  | { status: "pending" }
  | { status: "slow_down" }
  | { status: "expired"; errorDescription?: string }
  | { status: "denied"; errorDescription?: string };

export function deviceAuthorizationEndpoint(client: Pick<OAuthClient, "name" | "options">, endpoints: Endpoints): string {
  return requiredEndpoint(client, endpoints.deviceAuthorizationUrl, {
    setting: "device_authorization_url",
    noun: "device authorization endpoint",
    code: "config_invalid",
    hint: "set device_authorization_url, or issuer for discovery",
  });
}

/** RFC 8628 §3.1: client authentication (client_id in the body for public clients), scope, audience/resource. */
export async function buildDeviceAuthorizationRequest(client: OAuthClient, endpoints: Endpoints, options: { now: () => number }): Promise<PreparedRequest> {
  const url = deviceAuthorizationEndpoint(client, endpoints);
  return clientRequest(client, url, { scope: scopeParam(client.options), ...audienceParams(client.options) }, { endpoints, now: options.now });
}

function seconds(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value) && value > 0) return value;
  if (typeof value === "string" && /^\d+$/.test(value) && Number(value) > 0) return Number(value);
  return undefined;
}

/** RFC 8628 §3.2 (Google says `verification_url`; both are accepted). */
export function processDeviceAuthorizationResponse(response: ReceivedResponse, options: { now?: () => number } = {}): DeviceAuthorization {
  const parsed = parseBody(response, WHAT);
  const error = oauthErrorFields(parsed);
  if (error) throw oauthError(WHAT, response, error, options.now);
  if (response.status < 200 || response.status >= 300) throw invalidResponse(WHAT, response, parsed, { now: options.now });
  if (parsed.kind !== "object") throw invalidResponse(WHAT, response, parsed);
  const body = parsed.value;
  const verificationUri = body.verification_uri ?? body.verification_url;
  const expiresIn = seconds(body.expires_in);
  const missing = [
    typeof body.device_code === "string" && body.device_code ? undefined : "device_code",
    typeof body.user_code === "string" && body.user_code ? undefined : "user_code",
    typeof verificationUri === "string" && verificationUri ? undefined : "verification_uri",
    expiresIn === undefined ? "expires_in" : undefined,
  ].filter((f) => f !== undefined);
  if (missing.length > 0) throw invalidResponse(WHAT, response, parsed, { problem: `a response missing ${missing.join(", ")}` });
  const complete = body.verification_uri_complete ?? body.verification_url_complete;
  // The user code and URLs are printed for the user to read: server text, controls removed (§2.14).
  return {
    deviceCode: body.device_code as string,
    userCode: stripControls(body.user_code as string),
    verificationUri: stripControls(verificationUri as string),
    verificationUriComplete: typeof complete === "string" && complete ? stripControls(complete) : undefined,
    expiresInMs: expiresIn! * MS_PER_S,
    intervalMs: (seconds(body.interval) ?? DEFAULT_DEVICE_INTERVAL_MS / MS_PER_S) * MS_PER_S,
  };
}

/** Maps a token poll response (RFC 8628 §3.5) to a result; other errors throw as from any token request. */
export function processDevicePollResponse(client: OAuthClient, response: ReceivedResponse, options: { now?: () => number } = {}): DevicePollResult {
  const error = oauthErrorFields(parseBody(response, "token endpoint"));
  switch (error?.error) {
    case "authorization_pending":
      return { status: "pending" };
    case "slow_down":
      return { status: "slow_down" };
    case "expired_token":
      return { status: "expired", errorDescription: error.errorDescription };
    case "access_denied":
      return { status: "denied", errorDescription: error.errorDescription };
    default:
      return { status: "authorized", tokens: processTokenResponse(client, response, options) };
  }
}

/** Asks for a device code and user code. */
export async function requestDeviceAuthorization(client: OAuthClient, endpoints: Endpoints, deps: ProtocolDeps): Promise<DeviceAuthorization> {
  return exchange(client, deps, {
    what: WHAT,
    build: () => buildDeviceAuthorizationRequest(client, endpoints, { now: deps.now }),
    process: (response) => {
      const authorization = processDeviceAuthorizationResponse(response, { now: deps.now });
      announceSecrets(client, [authorization.deviceCode]);
      return authorization;
    },
  });
}

/** One poll of the token endpoint; `sentAt` dates the tokens when authorized. */
export async function pollDeviceToken(
  client: OAuthClient,
  endpoints: Endpoints,
  deviceCode: string,
  deps: ProtocolDeps,
): Promise<DevicePollResult & { sentAt: number }> {
  const grant = { kind: "device_code", deviceCode } as const;
  return exchange(client, deps, {
    build: () => buildTokenRequest(client, endpoints, grant, { now: deps.now }),
    secrets: [deviceCode],
    process: (response) => ({ ...processDevicePollResponse(client, response, { now: deps.now }), sentAt: response.sentAt }),
  });
}

import { clientAuthentication, type ClientAuthentication } from "./client-auth.js";
import type { Endpoints, OAuthClient, Params, PreparedRequest } from "./types.js";

export type { Params } from "./types.js";

/**
 * Assembles a POST to the authorization server. Headers: `Accept: application/json` (SPEC
 * §2.13), which nothing replaces; the body's Content-Type; the connection's extra headers
 * (replacing the Content-Type by name, any case; the config refuses an Accept among them);
 * then client authentication, which nothing may override.
 */
export function prepareRequest(
  url: string,
  params: Params,
  options: { auth: ClientAuthentication; headers?: Record<string, string>; json?: boolean },
): PreparedRequest {
  const all: Params = { ...params, ...options.auth.params };
  const headers: Record<string, string> = {
    Accept: "application/json",
    "Content-Type": options.json ? "application/json" : "application/x-www-form-urlencoded",
  };
  const extra = Object.entries(options.headers ?? {}).filter(([name]) => name.toLowerCase() !== "accept");
  for (const [name, value] of [...extra, ...Object.entries(options.auth.headers)]) {
    for (const existing of Object.keys(headers)) {
      if (existing.toLowerCase() === name.toLowerCase()) delete headers[existing];
    }
    headers[name] = value;
  }
  return { url, method: "POST", headers, body: options.json ? encodeJson(all) : encodeForm(all) };
}

function encodeForm(params: Params): string {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) form.append(name, one);
  }
  return form.toString();
}

function encodeJson(params: Params): string {
  const body: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(params)) if (value !== undefined) body[name] = value;
  return JSON.stringify(body);
}

/**
 * A POST from the client: its client authentication (addressed to `endpoints`, dated by `now`)
 * and its extra headers on `params`.
 */
export async function clientRequest(
  client: Pick<OAuthClient, "auth" | "options">,
  url: string,
  params: Params,
  context: { endpoints: Endpoints; now: () => number; json?: boolean },
): Promise<PreparedRequest> {
  const auth = await clientAuthentication(client, context.endpoints, { now: context.now });
  return prepareRequest(url, params, { auth, headers: client.options.headers, json: context.json });
}

/** Tells the client each short-lived secret a request is about to send (`OAuthClient.onSecret`). */
export function announceSecrets(client: Pick<OAuthClient, "onSecret">, values: ReadonlyArray<string | undefined>): void {
  if (!client.onSecret) return;
  for (const value of values) if (value) client.onSecret(value);
}

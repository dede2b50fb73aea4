import { createHash, randomBytes } from "node:crypto";
import { TokenSmithError } from "../errors.js";
import { announceSecrets } from "./request.js";
import { audienceParams, scopeParam } from "./token-request.js";
import type { Endpoints, OAuthClient } from "./types.js";
import { fieldPath, requiredEndpoint } from "./urls.js";

/**
 * The authorization request (RFC 6749 §4.1.1) with PKCE (RFC 7636), `state` and, for OpenID
 * Connect, `nonce`. SPEC §2.12: PKCE is sent unless `pkce: off`, whatever the metadata says.
 */

/** 32 random bytes: 256 bits, the entropy RFC 7636 §7.1 and RFC 9700 recommend for verifiers and state. */
const RANDOM_BYTES = 32;

export interface Pkce {
  verifier: string;
  challenge: string;
  method: "S256" | "plain";
}

/** A fresh high-entropy, URL-safe random value (state, nonce). */
export function randomToken(): string {
  return randomBytes(RANDOM_BYTES).toString("base64url");
}

/** RFC 7636 §4.1–4.2: a 43-character verifier and its challenge. */
export function generatePkce(method: "S256" | "plain" = "S256"): Pkce {
  const verifier = randomToken();
  return { verifier, challenge: pkceChallenge(verifier, method), method };
}

export function pkceChallenge(verifier: string, method: "S256" | "plain"): string {
  return method === "plain" ? verifier : createHash("sha256").update(verifier, "ascii").digest("base64url");
}

export interface AuthorizationRequestInput {
  redirectUri: string;
  state: string;
  pkce?: Pkce;
  nonce?: string;
}

/**
 * Builds the authorization URL (pure). `authorization_params` may change ordinary parameters
 * (prompt, access_type, even scope) but never state, PKCE or nonce, which are set last.
 */
export function buildAuthorizationUrl(client: OAuthClient, endpoints: Endpoints, input: AuthorizationRequestInput): string {
  const checked = requiredEndpoint(client, endpoints.authorizationUrl, {
    setting: "authorization_url",
    noun: "authorization URL",
    code: "config_invalid",
    hint: "set authorization_url, or issuer for discovery",
  });
  if (!client.clientId) throw new TokenSmithError("config_invalid", "an authorization request needs a client_id", { field: fieldPath(client.name, "client_id") });
  const url = new URL(checked);
  const set = (name: string, value: string | string[] | undefined) => {
    if (value === undefined) return;
    url.searchParams.delete(name);
    for (const one of Array.isArray(value) ? value : [value]) url.searchParams.append(name, one);
  };
  set("response_type", "code");
  set("client_id", client.clientId);
  set("redirect_uri", input.redirectUri);
  set("scope", scopeParam(client.options));
  for (const [name, value] of Object.entries(audienceParams(client.options))) set(name, value);
  for (const [name, value] of Object.entries(client.authorization.params)) set(name, value);
  set("state", input.state);
  if (input.pkce) {
    set("code_challenge", input.pkce.challenge);
    set("code_challenge_method", input.pkce.method);
  }
  set("nonce", input.nonce);
  return url.toString();
}

export interface PreparedAuthorization {
  url: string;
  state: string;
  /** Kept by the caller for the code exchange; never shown. */
  codeVerifier?: string;
  /** Present when scope includes `openid`; the ID token must echo it. */
  nonce?: string;
}

/** Fresh state, PKCE per `pkce` and a nonce for OpenID Connect, and the URL carrying them. */
export function prepareAuthorization(client: OAuthClient, endpoints: Endpoints, options: { redirectUri: string }): PreparedAuthorization {
  const state = randomToken();
  const pkce = client.authorization.pkce === "off" ? undefined : generatePkce(client.authorization.pkce);
  announceSecrets(client, [pkce?.verifier]);
  const nonce = client.options.scopes.includes("openid") ? randomToken() : undefined;
  const url = buildAuthorizationUrl(client, endpoints, { redirectUri: options.redirectUri, state, pkce, nonce });
  return { url, state, codeVerifier: pkce?.verifier, nonce };
}

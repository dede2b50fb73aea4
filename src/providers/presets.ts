import type { Preset } from "./registry.js";

/**
 * The preset catalogue, one entry per provider (see registry.ts for the fields). Endpoint URLs
 * are checked against each provider's own documentation; quirks come from docs/PROVIDERS.md.
 * Use `{var}` templates (with defaults in `vars`) for per-tenant or per-region URLs.
 */
export const PRESETS: Preset[] = [
  {
    name: "google",
    title: "Google",
    docs: "https://developers.google.com/identity/protocols/oauth2/web-server",
    issuer: "https://accounts.google.com",
    authorization_url: "https://accounts.google.com/o/oauth2/v2/auth",
    token_url: "https://oauth2.googleapis.com/token",
    revocation_url: "https://oauth2.googleapis.com/revoke",
    device_authorization_url: "https://oauth2.googleapis.com/device/code",
    userinfo_url: "https://openidconnect.googleapis.com/v1/userinfo",
    // No refresh token without access_type=offline; prompt=consent makes a repeated login
    // return a new one instead of none.
    authorization_params: { access_type: "offline", prompt: "consent" },
    notes: [
      "A refresh token is issued only with access_type=offline (set by this preset); prompt=consent forces a new one on every login.",
    ],
  },
  {
    name: "microsoft",
    title: "Microsoft Entra ID (identity platform v2.0)",
    docs: "https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow",
    issuerTemplate: "https://login.microsoftonline.com/{tenantid}/v2.0",
    authorization_url: "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
    token_url: "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
    device_authorization_url: "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/devicecode",
    userinfo_url: "https://graph.microsoft.com/oidc/userinfo",
    vars: { tenant: "common" },
    // No refresh token without offline_access, and refresh requests must name the scopes again.
    scopes: ["offline_access"],
    refresh_params: { scope: "{scopes}" },
    notes: [
      "vars.tenant: a tenant id or domain, or common / organizations / consumers (default common).",
      "offline_access is always requested (no refresh token without it) and is not echoed back in scope.",
      "There is no RFC 7009 revocation endpoint: use logout.",
    ],
  },
  {
    name: "github",
    title: "GitHub (OAuth apps and GitHub Apps)",
    docs: "https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps",
    authorization_url: "https://github.com/login/oauth/authorize",
    token_url: "https://github.com/login/oauth/access_token",
    device_authorization_url: "https://github.com/login/device/code",
    // OAuth app tokens carry no expires_in and do not expire; GitHub App tokens say 8 h.
    default_ttl: "never",
    notes: [
      "Token responses are form-encoded unless the request sends Accept: application/json; token_type is lowercase bearer.",
      "OAuth app tokens never expire (no expires_in): they are used until an API answers 401.",
      "GitHub Apps issue 8-hour tokens with 6-month refresh tokens.",
      "Revocation is a GitHub REST call, not RFC 7009: use logout.",
    ],
  },
];

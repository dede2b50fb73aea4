import type { Preset } from "../preset.js";

/**
 * Identity platforms: general-purpose authorization servers (OpenID Connect providers) that
 * front many APIs. Tenant-, domain- and realm-specific URLs are `{var}` templates.
 */
export const IDENTITY_PRESETS: Preset[] = [
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
    name: "google-service-account",
    title: "Google service account (server to server)",
    docs: "https://developers.google.com/identity/protocols/oauth2/service-account",
    token_url: "https://oauth2.googleapis.com/token",
    // RFC 7523 JWT bearer: iss = client_email, scope inside the assertion, aud = token_uri, kid = private_key_id.
    grant: "jwt_bearer",
    scope_in_assertion: true,
    credentials_format: "google-service-account",
    notes: [
      "credentials_file: the service account's JSON key (client_email, private_key, private_key_id and token_uri are read from it).",
      "The scopes go inside the signed assertion as its scope claim, not in the request.",
      "Domain-wide delegation: set assertion.sub to the user's email address to act for that user.",
      "No refresh token: a new assertion is signed whenever the access token (one hour) expires.",
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
    // Refresh requests must name the scopes again.
    refresh_params: { scope: "{scopes}" },
    grants: {
      // No refresh token without offline_access, which only a user grant may ask for.
      authorization_code: { scopes: ["offline_access"] },
      device_code: { scopes: ["offline_access"] },
      refresh_token: { scopes: ["offline_access"] },
      // App-only: one resource's `/.default` (the permissions granted to the app), never offline_access.
      client_credentials: { default_scopes: ["https://graph.microsoft.com/.default"] },
    },
    notes: [
      "vars.tenant: a tenant id or domain, or common / organizations / consumers (default common). App-only logins (client_credentials) need a tenant id or domain: Entra refuses common for them.",
      "User grants: offline_access is always requested (no refresh token without it) and is not echoed back in scope.",
      "client_credentials: scope https://graph.microsoft.com/.default unless the connection names another resource's /.default; never offline_access. A certificate credential: set private_key and certificate (PEM) — the assertion carries x5t#S256.",
      "Refresh requests repeat the requested scopes (refresh_params.scope, set by this preset).",
      "There is no RFC 7009 revocation endpoint: use logout.",
    ],
  },
  {
    name: "okta",
    title: "Okta (custom authorization server)",
    docs: "https://developer.okta.com/docs/concepts/auth-servers",
    issuer: "https://{domain}/oauth2/{authorization_server}",
    authorization_url: "https://{domain}/oauth2/{authorization_server}/v1/authorize",
    token_url: "https://{domain}/oauth2/{authorization_server}/v1/token",
    revocation_url: "https://{domain}/oauth2/{authorization_server}/v1/revoke",
    vars: { authorization_server: "default" },
    notes: [
      "vars.domain (required): your Okta domain, e.g. dev-123456.okta.com.",
      "vars.authorization_server: the custom authorization server id (default: default). For the org authorization server set issuer to https://DOMAIN and the endpoints to https://DOMAIN/oauth2/v1/...",
      "A refresh token is issued only with scope offline_access, and only if the app integration allows the refresh token grant.",
      "grant client_credentials works only with a custom authorization server (not the org one) and needs a custom scope of that server in scopes.",
      "Other endpoints (introspection, userinfo, device) are read from the issuer's metadata when needed.",
    ],
  },
  {
    name: "auth0",
    title: "Auth0",
    docs: "https://auth0.com/docs/flows/call-your-api-using-the-authorization-code-flow",
    // Auth0 tenants name their issuer with a trailing slash.
    issuer: "https://{domain}/",
    authorization_url: "https://{domain}/authorize",
    token_url: "https://{domain}/oauth/token",
    revocation_url: "https://{domain}/oauth/revoke",
    client_auth: "post",
    notes: [
      "vars.domain (required): your tenant domain, e.g. acme.us.auth0.com, or your custom domain.",
      "A refresh token is issued only with scope offline_access, and only if the API has Allow Offline Access enabled.",
      "Set audience to your API's identifier to get an access token for that API; grant client_credentials needs it (Auth0's token request lists audience as required for machine-to-machine).",
      "client_secret is sent in the request body (as in Auth0's examples); set client_auth: basic if the application's token endpoint authentication method is Basic.",
    ],
  },
  {
    name: "keycloak",
    title: "Keycloak",
    docs: "https://www.keycloak.org/securing-apps/oidc-layers",
    issuer: "{base_url}/realms/{realm}",
    authorization_url: "{base_url}/realms/{realm}/protocol/openid-connect/auth",
    token_url: "{base_url}/realms/{realm}/protocol/openid-connect/token",
    revocation_url: "{base_url}/realms/{realm}/protocol/openid-connect/revoke",
    introspection_url: "{base_url}/realms/{realm}/protocol/openid-connect/token/introspect",
    userinfo_url: "{base_url}/realms/{realm}/protocol/openid-connect/userinfo",
    notes: [
      "vars.base_url (required): the server's URL with its scheme, e.g. https://sso.example.com (older servers: https://sso.example.com/auth).",
      "vars.realm (required): the realm name.",
      "Other endpoints (device authorization, ...) are read from the realm's metadata when needed.",
    ],
  },
  {
    name: "amazon",
    title: "Login with Amazon",
    docs: "https://developer.amazon.com/docs/login-with-amazon/authorization-code-grant.html",
    authorization_url: "https://www.amazon.com/ap/oa",
    token_url: "https://{api_host}/auth/o2/token",
    vars: { api_host: "api.amazon.com" },
    // No refresh token unless client_secret is sent; Amazon's examples send it in the body.
    client_auth: "post",
    notes: [
      "vars.api_host: the regional token host: api.amazon.com (North America, default), api.amazon.co.uk (Europe), api.amazon.co.jp (Far East).",
      "No refresh token unless client_secret is sent: keep client_secret set (this preset sends it in the request body).",
      "Scopes are space-separated, e.g. profile postal_code.",
    ],
  },
];

import type { Preset } from "../preset.js";

/** Developer and team tools: code hosting, issue tracking, chat, notes, meetings. */
export const DEVELOPER_PRESETS: Preset[] = [
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
      "Token responses are form-encoded unless the request sends Accept: application/json (tokensmith always does); token_type is lowercase bearer.",
      "OAuth app tokens never expire (no expires_in): they are used until an API answers 401.",
      "GitHub Apps issue 8-hour tokens with 6-month refresh tokens.",
      "Revocation is a GitHub REST call, not RFC 7009: use logout.",
    ],
  },
  {
    name: "gitlab",
    title: "GitLab (gitlab.com or self-managed)",
    docs: "https://docs.gitlab.com/api/oauth2",
    issuer: "https://{host}",
    authorization_url: "https://{host}/oauth/authorize",
    token_url: "https://{host}/oauth/token",
    revocation_url: "https://{host}/oauth/revoke",
    device_authorization_url: "https://{host}/oauth/authorize_device",
    userinfo_url: "https://{host}/oauth/userinfo",
    vars: { host: "gitlab.com" },
    notes: [
      "vars.host: gitlab.com (default) or your self-managed instance's host name.",
      "The device authorization grant needs GitLab 17.1 or later.",
    ],
  },
  {
    name: "atlassian",
    title: "Atlassian Cloud (Jira, Confluence; OAuth 2.0 3LO)",
    docs: "https://developer.atlassian.com/cloud/oauth/getting-started/implementing-oauth-3lo",
    authorization_url: "https://auth.atlassian.com/authorize",
    token_url: "https://auth.atlassian.com/oauth/token",
    // The audience goes on the authorization URL only; the token endpoint takes JSON with the
    // client credentials in the body, as Atlassian's examples show.
    authorization_params: { audience: "api.atlassian.com", prompt: "consent" },
    client_auth: "post",
    token_body: "json",
    scopes: ["offline_access"],
    notes: [
      "offline_access is always requested (no refresh token without it).",
      "Refresh tokens rotate: every refresh returns a new one and disables the one used (tokensmith stores the new one first).",
      "Call APIs through https://api.atlassian.com/ex/PRODUCT/CLOUDID/...: a site's own domain does not accept these tokens.",
    ],
  },
  {
    name: "linear",
    title: "Linear",
    docs: "https://linear.app/developers/oauth-2-0-authentication",
    authorization_url: "https://linear.app/oauth/authorize",
    token_url: "https://api.linear.app/oauth/token",
    scope_separator: ",",
    client_auth: "post",
    notes: [
      "Scopes are comma-separated, e.g. read,write (read is always granted).",
      "Every OAuth application issues refresh tokens since April 2026.",
    ],
  },
  {
    name: "asana",
    title: "Asana",
    docs: "https://developers.asana.com/docs/oauth",
    authorization_url: "https://app.asana.com/-/oauth_authorize",
    token_url: "https://app.asana.com/-/oauth_token",
    revocation_url: "https://app.asana.com/-/oauth_revoke",
    client_auth: "post",
  },
  {
    name: "notion",
    title: "Notion (public integrations)",
    docs: "https://developers.notion.com/reference/create-a-token",
    authorization_url: "https://api.notion.com/v1/oauth/authorize",
    token_url: "https://api.notion.com/v1/oauth/token",
    authorization_params: { owner: "user" },
    // Basic client authentication with a JSON body, and the API version header the token
    // endpoint requires.
    client_auth: "basic",
    // Notion documents base64 of "id:secret" as they are; its ids hold '-' and its secrets '_',
    // which RFC 6749 Appendix B would send percent-encoded.
    basic_encoding: "raw",
    token_body: "json",
    token_headers: { "Notion-Version": "2025-09-03" },
    // Token responses carry no expires_in.
    default_ttl: "never",
    notes: [
      "The token endpoint takes HTTP Basic client authentication with a JSON body (both set by this preset).",
      "Responses carry no expires_in: the token is used until an API answers 401, then refreshed when Notion issued a refresh token.",
      "Notion-Version is sent on token requests (2025-09-03); override it in token_headers if Notion asks for another.",
    ],
  },
  {
    name: "slack",
    title: "Slack (OAuth v2: bot token)",
    docs: "https://docs.slack.dev/authentication/installing-with-oauth",
    authorization_url: "https://slack.com/oauth/v2/authorize",
    token_url: "https://slack.com/api/oauth.v2.access",
    scope_separator: ",",
    // Without token rotation Slack tokens carry no expires_in and do not expire.
    default_ttl: "never",
    // Slack's token_type is "bot" or "user", not Bearer; its Web API takes both as Bearer tokens.
    header: { name: "Authorization", value: "Bearer {token}" },
    notes: [
      "The token is the bot token at the top level of the oauth.v2.access response (Slack's default); scopes are bot scopes, comma-separated.",
      "For the user token instead: authorization_params: {user_scope: \"...\"} and response: {access_token: $.authed_user.access_token, scope: $.authed_user.scope, token_type: $.authed_user.token_type}.",
      "Errors come as HTTP 200 with ok: false; tokensmith treats them as errors.",
      "token_type is bot or user rather than Bearer; the preset's header sends the token as Bearer, as Slack's Web API expects.",
      "Without token rotation tokens do not expire (no expires_in); with it, refresh tokens are returned and used.",
    ],
  },
  {
    name: "discord",
    title: "Discord",
    docs: "https://discord.com/developers/docs/topics/oauth2",
    // The endpoints as Discord's own RFC 8414 metadata lists them.
    issuer: "https://discord.com",
    authorization_url: "https://discord.com/api/oauth2/authorize",
    token_url: "https://discord.com/api/oauth2/token",
    revocation_url: "https://discord.com/api/oauth2/token/revoke",
    notes: ["Scopes are space-separated, e.g. identify email guilds."],
  },
  {
    name: "zoom",
    title: "Zoom (user-managed OAuth apps)",
    docs: "https://developers.zoom.us/docs/integrations/",
    authorization_url: "https://zoom.us/oauth/authorize",
    token_url: "https://zoom.us/oauth/token",
    notes: [
      "Every refresh returns a new refresh token and invalidates the old one: tokensmith stores the new one before handing out the access token.",
      "Server-to-Server apps use grant_type account_credentials with token_params: {account_id: ...} and no login.",
    ],
  },
];

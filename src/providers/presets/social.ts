import type { Preset } from "../preset.js";

/** Social and media platforms. */
export const SOCIAL_PRESETS: Preset[] = [
  {
    name: "facebook",
    title: "Facebook Login (Graph API)",
    docs: "https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow",
    authorization_url: "https://www.facebook.com/{version}/dialog/oauth",
    token_url: "https://graph.facebook.com/{version}/oauth/access_token",
    vars: { version: "v21.0" },
    scope_separator: ",",
    client_auth: "post",
    notes: [
      "vars.version: the Graph API version in the URLs (default v21.0).",
      "There are no refresh tokens, and that is normal: exchange a short-lived user token for a long-lived one with grant_type: fb_exchange_token and token_params: {fb_exchange_token: ...}.",
      "Permissions (scopes) are comma-separated, e.g. email,public_profile.",
    ],
  },
  {
    name: "x",
    title: "X (Twitter) API v2",
    docs: "https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token",
    authorization_url: "https://x.com/i/oauth2/authorize",
    token_url: "https://api.x.com/2/oauth2/token",
    revocation_url: "https://api.x.com/2/oauth2/revoke",
    scopes: ["offline.access"],
    notes: [
      "PKCE is required for every OAuth 2.0 app, confidential clients too (tokensmith always sends S256).",
      "offline.access is always requested: without it there is no refresh token, and access tokens last 2 hours.",
      "Confidential clients authenticate with HTTP Basic (the default with a client_secret); public clients leave client_secret out.",
    ],
  },
  {
    name: "linkedin",
    title: "LinkedIn",
    docs: "https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow",
    authorization_url: "https://www.linkedin.com/oauth/v2/authorization",
    token_url: "https://www.linkedin.com/oauth/v2/accessToken",
    client_auth: "post",
    notes: [
      "Access tokens last 60 days. Refresh tokens (one year, not extended by refreshing) are issued only to approved partners: without one, log in again when the token expires.",
    ],
  },
  {
    name: "reddit",
    title: "Reddit",
    docs: "https://github.com/reddit-archive/reddit/wiki/OAuth2",
    authorization_url: "https://www.reddit.com/api/v1/authorize",
    token_url: "https://www.reddit.com/api/v1/access_token",
    revocation_url: "https://www.reddit.com/api/v1/revoke_token",
    // HTTP Basic is required; a refresh token only with duration=permanent.
    client_auth: "basic",
    // Reddit's docs (and its r2 code) split the decoded header at ':' without URL-decoding;
    // its ids and secrets hold '-' and '_', which RFC 6749 Appendix B would send as %2D, %5F.
    basic_encoding: "raw",
    authorization_params: { duration: "permanent" },
    // Reddit throttles generic User-Agents; this one identifies tokensmith until the user sets
    // their own in token_headers (which replaces it, whatever the case of the name).
    token_headers: { "User-Agent": "tokensmith:oauth-client:v1" },
    notes: [
      "HTTP Basic client authentication is required (set by this preset), and duration=permanent asks for a refresh token.",
      "Reddit wants a unique User-Agent: set token_headers: {User-Agent: \"<platform>:<app ID>:<version> (by /u/<username>)\"}.",
      "API calls go to https://oauth.reddit.com with the same User-Agent.",
    ],
  },
  {
    name: "strava",
    title: "Strava",
    docs: "https://developers.strava.com/docs/authentication",
    authorization_url: "https://www.strava.com/oauth/authorize",
    token_url: "https://www.strava.com/oauth/token",
    scope_separator: ",",
    client_auth: "post",
    notes: [
      "Scopes are comma-separated, e.g. read,activity:read_all.",
      "Responses carry expires_at (epoch seconds) and an athlete object (kept under extra).",
      "The refresh token may change on a refresh: tokensmith stores the newest.",
    ],
  },
  {
    name: "spotify",
    title: "Spotify Web API",
    docs: "https://developer.spotify.com/documentation/web-api/tutorials/code-flow",
    authorization_url: "https://accounts.spotify.com/authorize",
    token_url: "https://accounts.spotify.com/api/token",
    notes: ["Scopes are space-separated, e.g. user-read-private playlist-read-private."],
  },
  {
    name: "twitch",
    title: "Twitch",
    docs: "https://dev.twitch.tv/docs/authentication/getting-tokens-oauth/",
    authorization_url: "https://id.twitch.tv/oauth2/authorize",
    token_url: "https://id.twitch.tv/oauth2/token",
    revocation_url: "https://id.twitch.tv/oauth2/revoke",
    client_auth: "post",
    notes: [
      "Token responses list scope as an array; tokensmith accepts it.",
      "The refresh token may change on a refresh: tokensmith stores the newest.",
    ],
  },
];

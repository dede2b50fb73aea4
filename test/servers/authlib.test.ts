import { serverSuite } from "./suite.js";

/**
 * Authlib 1.2 (Debian's python3-authlib, Flask): Basic credentials are not URL-decoded
 * (basic_encoding: raw), a refresh rotates with INCLUDE_NEW_REFRESH_TOKEN and revokes the old
 * access token (401), RFC 7009 revocation at a URL of the app's choosing (docs/servers.md).
 */
serverSuite({
  kind: "authlib",
  title: "Authlib (Flask)",
  paths: { token: "/oauth/token", authorize: "/oauth/authorize", revoke: "/oauth/revoke", api: "/api/me" },
  basicEncoding: "raw",
  scopes: ["profile", "email"],
  replacedTokenStatus: 401,
});

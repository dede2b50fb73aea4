import { serverSuite } from "./suite.js";

/**
 * @node-oauth/oauth2-server 5.x on node:http: Basic credentials are not URL-decoded
 * (basic_encoding: raw), rotation by default (alwaysIssueNewRefreshToken), no revocation
 * endpoint and no discovery (docs/servers.md).
 */
serverSuite({
  kind: "node-oauth",
  title: "@node-oauth/oauth2-server",
  paths: { token: "/token", authorize: "/authorize", api: "/api/me" },
  basicEncoding: "raw",
  scopes: ["profile", "email"],
  replacedTokenStatus: 401,
});

import { serverSuite } from "./suite.js";

/**
 * Django OAuth Toolkit 1.7 (Debian's python3-django-oauth-toolkit): endpoints with trailing
 * slashes, Basic credentials URL-decoded (the RFC's form encoding), a refresh deletes the old
 * access token and the stock protected views answer a bare 403 to it, revocation at
 * /o/revoke_token/ (not in its metadata), discovery only with OIDC on and only at the
 * trailing-slash path (docs/servers.md).
 */
serverSuite({
  kind: "dot",
  title: "Django OAuth Toolkit",
  paths: { token: "/o/token/", authorize: "/o/authorize/", revoke: "/o/revoke_token/", api: "/api/me" },
  issuerPath: "/o",
  basicEncoding: "form",
  scopes: ["read", "write"],
  replacedTokenStatus: 403,
});

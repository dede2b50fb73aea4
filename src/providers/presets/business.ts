import type { Preset } from "../preset.js";

/** Business platforms: CRM, accounting, support, commerce, payments, documents and files. */
export const BUSINESS_PRESETS: Preset[] = [
  {
    name: "salesforce",
    title: "Salesforce",
    docs: "https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_endpoints.htm&language=en_US&type=5",
    authorization_url: "https://{login_host}/services/oauth2/authorize",
    token_url: "https://{login_host}/services/oauth2/token",
    revocation_url: "https://{login_host}/services/oauth2/revoke",
    userinfo_url: "https://{login_host}/services/oauth2/userinfo",
    vars: { login_host: "login.salesforce.com" },
    // Token responses carry no expires_in: the lifetime is the org's session timeout.
    default_ttl: "never",
    notes: [
      "vars.login_host: login.salesforce.com (default), test.salesforce.com for sandboxes, or your My Domain host (MyDomainName.my.salesforce.com).",
      "Responses carry no expires_in (the token lives as long as the org's session timeout): it is used until an API answers 401, then refreshed. Scripts that use `tokensmith token` should set default_ttl to the session timeout.",
      "instance_url (this org's API base URL), id and issued_at are kept: `tokensmith token NAME --json` shows them under extra.",
      "grant client_credentials (server to server) needs vars.login_host set to the org's My Domain host: Salesforce refuses it at login.salesforce.com and test.salesforce.com.",
    ],
  },
  {
    name: "zoho",
    title: "Zoho (CRM, Books, Desk and the other Zoho APIs)",
    docs: "https://www.zoho.com/accounts/protocol/oauth/multi-dc.html",
    authorization_url: "https://{accounts_host}/oauth/v2/auth",
    token_url: "https://{accounts_host}/oauth/v2/token",
    revocation_url: "https://{accounts_host}/oauth/v2/token/revoke",
    vars: { accounts_host: "accounts.zoho.com" },
    // Zoho's examples send every parameter, the client credentials included, in the request.
    client_auth: "post",
    scope_separator: ",",
    // No refresh token without access_type=offline; prompt=consent returns a new one on a repeated login.
    authorization_params: { access_type: "offline", prompt: "consent" },
    // Zoho's APIs document their own scheme for the token.
    header: { name: "Authorization", value: "Zoho-oauthtoken {token}" },
    notes: [
      "vars.accounts_host: the accounts server of the user's data center: accounts.zoho.com (US, default), accounts.zoho.eu, accounts.zoho.in, accounts.zoho.com.au, accounts.zoho.jp, accounts.zohocloud.ca, accounts.zoho.sa, accounts.zoho.com.cn, accounts.zoho.uk. A login elsewhere answers with location and accounts-server: use that host.",
      "Scopes are comma-separated, e.g. ZohoCRM.modules.ALL,ZohoCRM.users.READ.",
      "api_domain (the API host of the user's data center) is kept: `tokensmith token NAME --json` shows it under extra.",
      "API calls send Authorization: Zoho-oauthtoken {token} (set by this preset), the scheme Zoho's APIs document.",
    ],
  },
  {
    name: "hubspot",
    title: "HubSpot",
    docs: "https://developers.hubspot.com/docs/api-reference/auth-oauth-v3/guide",
    authorization_url: "https://app.hubspot.com/oauth/authorize",
    token_url: "https://api.hubapi.com/oauth/v3/token",
    // The v3 token endpoint wants every parameter, client credentials included, in the body.
    client_auth: "post",
    notes: [
      "Access tokens last 30 minutes; tokensmith follows expires_in.",
      "The v3 token endpoint takes client_id and client_secret in the request body (set by this preset); v1 is deprecated from February 2027.",
      "Scopes are space-separated, e.g. crm.objects.contacts.read.",
    ],
  },
  {
    name: "intuit",
    title: "Intuit QuickBooks Online",
    docs: "https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-openid-discovery-doc",
    authorization_url: "https://appcenter.intuit.com/connect/oauth2",
    token_url: "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
    revocation_url: "https://developer.api.intuit.com/v2/oauth2/tokens/revoke",
    notes: [
      "The refresh token may change on any refresh: tokensmith always stores the latest one before handing out the access token.",
      "Sandbox and production companies use the same OAuth endpoints.",
      "Scopes are space-separated, e.g. com.intuit.quickbooks.accounting.",
    ],
  },
  {
    name: "xero",
    title: "Xero",
    docs: "https://developer.xero.com/documentation/oauth2/auth-flow",
    authorization_url: "https://login.xero.com/identity/connect/authorize",
    token_url: "https://identity.xero.com/connect/token",
    scopes: ["offline_access"],
    notes: [
      "offline_access is always requested (no refresh token without it).",
      "Refresh tokens rotate; a lost rotation shows up as invalid_grant, which tokensmith recovers from when another process stored the newer token.",
      "API calls need the tenant id of a connected organisation as well as the token.",
    ],
  },
  {
    name: "zendesk",
    title: "Zendesk",
    docs: "https://developer.zendesk.com/api-reference/ticketing/oauth/grant_type_tokens/",
    authorization_url: "https://{subdomain}.zendesk.com/oauth/authorizations/new",
    token_url: "https://{subdomain}.zendesk.com/oauth/tokens",
    // Zendesk's examples post JSON with the client credentials in it.
    client_auth: "post",
    token_body: "json",
    // Some tokens come without expires_in.
    default_ttl: "never",
    notes: [
      "vars.subdomain (required): your Zendesk subdomain (acme for acme.zendesk.com).",
      "Tokens without expires_in are used until an API answers 401, then refreshed.",
      "Scopes are space-separated, e.g. read write.",
    ],
  },
  {
    name: "shopify",
    title: "Shopify Admin API",
    docs: "https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant",
    authorization_url: "https://{shop}.myshopify.com/admin/oauth/authorize",
    token_url: "https://{shop}.myshopify.com/admin/oauth/access_token",
    scope_separator: ",",
    client_auth: "post",
    // The Admin API reads the token from its own header, without a scheme.
    header: { name: "X-Shopify-Access-Token", value: "{token}" },
    // Offline tokens do not expire unless expiring tokens are requested.
    default_ttl: "never",
    notes: [
      "vars.shop (required): the store's subdomain (acme for acme.myshopify.com).",
      "API calls send the token in X-Shopify-Access-Token (set by this preset), not Authorization.",
      "Offline tokens do not expire by default; expiring offline tokens (60 minutes, with a refresh token replaced on every refresh) are required for public apps from January 2027 — see Shopify's docs on expiring offline access tokens.",
      "Scopes are comma-separated, e.g. read_orders,read_products.",
    ],
  },
  {
    name: "paypal",
    title: "PayPal REST APIs (client credentials)",
    docs: "https://developer.paypal.com/api/rest/authentication/",
    token_url: "https://{api_host}/v1/oauth2/token",
    vars: { api_host: "api-m.paypal.com" },
    notes: [
      "vars.api_host: api-m.paypal.com (live, default) or api-m.sandbox.paypal.com (sandbox).",
      "Client credentials grant: `tokensmith token NAME` works without a login.",
      "expires_in has been seen as a string; tokensmith accepts numeric strings.",
    ],
  },
  {
    name: "docusign",
    title: "Docusign (Authorization Code Grant)",
    docs: "https://developers.docusign.com/platform/auth/confidential-authcode-get-token",
    authorization_url: "https://{account_host}/oauth/auth",
    token_url: "https://{account_host}/oauth/token",
    vars: { account_host: "account.docusign.com" },
    notes: ["vars.account_host: account.docusign.com (production, default) or account-d.docusign.com (developer accounts)."],
  },
  {
    name: "box",
    title: "Box",
    docs: "https://developer.box.com/guides/authentication/oauth2/without-sdk/",
    authorization_url: "https://account.box.com/api/oauth2/authorize",
    token_url: "https://api.box.com/oauth2/token",
    revocation_url: "https://api.box.com/oauth2/revoke",
    // Box's token and revoke examples send client_id and client_secret in the body.
    client_auth: "post",
    notes: [
      "Access tokens last 60 minutes; a refresh token lasts 60 days or one use: every refresh returns a new one.",
      "Box Verified Enterprise accounts may need https://ent.box.com/api/oauth2/authorize as authorization_url.",
    ],
  },
  {
    name: "dropbox",
    title: "Dropbox",
    docs: "https://www.dropbox.com/developers/reference/oauth-guide",
    authorization_url: "https://www.dropbox.com/oauth2/authorize",
    token_url: "https://api.dropboxapi.com/oauth2/token",
    // Short-lived tokens only, unless offline access is asked for.
    authorization_params: { token_access_type: "offline" },
    notes: ["Access tokens are short-lived; a refresh token is issued only with token_access_type=offline (set by this preset)."],
  },
];

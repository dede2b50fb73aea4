import { isInsecureHttp, isLoopbackHost, isLoopbackHttpUrl, refusesPlainHttp } from "../urls.js";
import { configError, showUrl, type ConfigErrorOptions } from "./issues.js";

/**
 * URL rules for endpoints (SPEC §2.13): https, or plain http only on loopback (or with
 * `allow_insecure_http: true`), never credentials inside the URL.
 */

/** The shared rules (src/urls.ts), re-exported for the config layer's importers. */
export { isInsecureHttp, isLoopbackHost, isLoopbackHttpUrl };

export interface UrlRuleOptions extends ConfigErrorOptions {
  allowInsecureHttp: boolean;
}

const HTTPS_HINT = "endpoints must be https URLs; plain http is allowed only on loopback (127.0.0.1, ::1, localhost)";
const INSECURE_HINT = "plain http sends secrets in clear text; if this really is a trusted network, set allow_insecure_http: true on the connection";

function parse(value: string, field: string, options: UrlRuleOptions): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw configError(field, `not an absolute URL (got ${showUrl(value)})`, { ...options, cause, hint: HTTPS_HINT });
  }
  if (url.username || url.password) {
    throw configError(field, `must not contain a user name or password (got ${showUrl(value)})`, {
      ...options,
      hint: "put client credentials in client_id / client_secret, not in the URL",
    });
  }
  return url;
}

function refuseInsecure(url: URL, value: string, field: string, options: UrlRuleOptions): void {
  if (refusesPlainHttp(url, options.allowInsecureHttp)) {
    throw configError(field, `plain http is refused for a non-loopback host (got ${showUrl(value)})`, { ...options, hint: INSECURE_HINT });
  }
}

/** An endpoint URL (token, authorization, discovery, ...): https, or http under the rule above. */
export function checkEndpointUrl(value: string, field: string, options: UrlRuleOptions): URL {
  const url = parse(value, field, options);
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw configError(field, `must be an https URL (got ${showUrl(value)})`, { ...options, hint: HTTPS_HINT });
  }
  refuseInsecure(url, value, field, options);
  return url;
}

/** A redirect URI: any scheme (native apps use custom ones), but never plain http off loopback. */
export function checkRedirectUri(value: string, field: string, options: UrlRuleOptions): URL {
  const url = parse(value, field, options);
  refuseInsecure(url, value, field, options);
  return url;
}

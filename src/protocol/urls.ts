import { TokenSmithError } from "../errors.js";
import type { OAuthClient } from "./types.js";
import { refusesPlainHttp } from "../urls.js";

/**
 * SPEC §2.13: credentials and tokens travel only over TLS, except to this machine (a local
 * development server, the demo) or where the user explicitly accepted plain HTTP.
 */
export interface EndpointUrlOptions {
  /** The config field path named in errors, e.g. `connections.billing.token_url`. */
  field: string;
  allowInsecureHttp: boolean;
}

/** One rule for "this machine" everywhere (config checks, the login listener, transport). */
export { isLoopbackHost } from "../urls.js";

/**
 * Parses and checks an endpoint URL: https, or http only on loopback unless allowed. A
 * fragment is refused (RFC 6749 §3.1/§3.2). Returns the URL unchanged (no normalization: a
 * client assertion's `aud` must match the server's own spelling of it).
 */
export function checkEndpointUrl(url: string, options: EndpointUrlOptions): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new TokenSmithError("config_invalid", `${options.field} is not a valid URL`, { field: options.field, cause });
  }
  const shown = `${parsed.origin}${parsed.pathname}`;
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new TokenSmithError("config_invalid", `${options.field} must be an https URL, got ${parsed.protocol} (${shown})`, {
      field: options.field,
      url: shown,
    });
  }
  if (refusesPlainHttp(parsed, options.allowInsecureHttp)) {
    throw new TokenSmithError("config_invalid", `${options.field} uses plain http to a non-loopback host: ${shown}`, {
      field: options.field,
      url: shown,
      hint: "use https, or set allow_insecure_http: true if this server really has no TLS",
    });
  }
  if (parsed.hash) {
    throw new TokenSmithError("config_invalid", `${options.field} must not contain a fragment (#...): ${shown}`, {
      field: options.field,
      url: shown,
    });
  }
  return url;
}

/** The config field path for a connection's setting, as errors name it. */
export function fieldPath(connection: string, field: string): string {
  return `connections.${connection}.${field}`;
}

/** Which endpoint a request needs: the setting that names it, and what to say when there is none. */
export interface EndpointSpec {
  /** The connection setting, e.g. `token_url`. */
  setting: string;
  /** How the message names it, e.g. "token URL". */
  noun: string;
  /** `config_invalid` when the grant cannot work without it; `not_supported` for optional features. */
  code: "config_invalid" | "not_supported";
  hint: string;
}

/** The endpoint's URL, checked (https or loopback); none at all is the spec's error, naming the setting. */
export function requiredEndpoint(client: Pick<OAuthClient, "name" | "options">, url: string | undefined, spec: EndpointSpec): string {
  const field = fieldPath(client.name, spec.setting);
  if (!url) {
    throw new TokenSmithError(spec.code, `connection ${client.name} has no ${spec.noun}`, {
      field,
      connection: spec.code === "not_supported" ? client.name : undefined,
      hint: spec.hint,
    });
  }
  return checkEndpointUrl(url, { field, allowInsecureHttp: client.options.allowInsecureHttp });
}

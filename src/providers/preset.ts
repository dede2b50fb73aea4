import type { GrantName } from "../config/grants.js";
import type { ConnectionConfig } from "../config/schema.js";

/** What a preset adds for one grant (presets are per grant). */
export interface PresetGrant {
  /** Scopes always requested with this grant (added to the connection's, unless `scopes_mode: replace`). */
  scopes?: string[];
  /** Scopes requested with this grant when the connection names none, e.g. Microsoft's `https://graph.microsoft.com/.default`. */
  default_scopes?: string[];
  authorization_params?: Record<string, string>;
  token_params?: Record<string, string>;
  refresh_params?: Record<string, string>;
}


/**
 * Provider presets: endpoints and quirks of well-known authorization servers, so that a
 * connection can say `provider: google` instead of five URLs. A preset's values are defaults
 * under the connection's own; its maps (params, headers, vars, response) merge with
 * the connection's, and its `scopes` are always requested in addition to the connection's.
 * Field names are the config file's own (snake_case), so a preset reads like a connection.
 */
export interface Preset {
  /** The `provider:` value. Lowercase letters, digits and `-`. */
  name: string;
  /** Display name, e.g. "Microsoft Entra ID". */
  title: string;
  /** Where the provider documents its OAuth endpoints. */
  docs?: string;
  issuer?: string;
  /** An issuer with a placeholder the server fills per tenant, e.g. Microsoft's `{tenantid}`. */
  issuerTemplate?: string;
  discovery_url?: string;
  authorization_url?: string;
  token_url?: string;
  revocation_url?: string;
  introspection_url?: string;
  device_authorization_url?: string;
  userinfo_url?: string;
  /** Defaults for `{var}` templates in the URLs above, e.g. `{ tenant: "common" }`. */
  vars?: Record<string, string>;
  /** How a client secret is sent, when the connection has one (a private key still wins). */
  client_auth?: ConnectionConfig["client_auth"];
  basic_encoding?: ConnectionConfig["basic_encoding"];
  token_body?: ConnectionConfig["token_body"];
  scope_separator?: string;
  /** Values may use `{scopes}` (the requested scopes, joined) and `{var}` templates. */
  authorization_params?: Record<string, string>;
  token_params?: Record<string, string>;
  refresh_params?: Record<string, string>;
  token_headers?: Record<string, string>;
  response?: ConnectionConfig["response"];
  header?: { name?: string; value?: string };
  /** A duration (seconds or "1h") or "never", as in the config file. */
  default_ttl?: number | string;
  /** Scopes always requested, whatever the grant (unless `scopes_mode: replace`). */
  scopes?: string[];
  /** Scopes and parameters per grant, e.g. Microsoft's `offline_access` for the user grants only (no refresh token without it; Entra refuses it app-only). */
  grants?: Partial<Record<GrantName, PresetGrant>>;
  /** The grant a connection of this provider uses by default. */
  grant?: GrantName;
  /** `jwt_bearer`: the scopes go inside the assertion as its `scope` claim, not in the form (Google service accounts). */
  scope_in_assertion?: boolean;
  /** What the provider's `credentials_file` (a JSON key file) gives. */
  credentials_format?: "google-service-account";
  /** Quirks worth knowing, shown by `tokensmith providers NAME`. */
  notes?: string[];
}

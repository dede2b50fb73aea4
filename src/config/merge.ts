import type { PresetGrant } from "../providers/preset.js";
import type { Preset } from "../providers/registry.js";
import { grantOf } from "./grants.js";
import { TEMPLATED_FIELDS } from "../providers/variables.js";
import { configError, type ConfigErrorOptions } from "./issues.js";
import type { ConnectionConfig } from "./schema.js";

/**
 * A connection on top of its preset (SPEC §1): the preset's values are defaults under the
 * connection's own, its maps merge key by key (the connection wins), its scopes are added.
 * Then `{var}` templates in URLs are filled from `vars` (the preset gives defaults, e.g.
 * Microsoft's `{tenant}` = common).
 */

/** Fields whose preset value is used when the connection has none: its endpoint URLs and these. */
const PRESET_SCALARS = [...TEMPLATED_FIELDS, "grant", "basic_encoding", "token_body", "scope_separator", "default_ttl"] as const;

/** Maps merged key by key. */
const PRESET_MAPS = ["vars", "authorization_params", "token_params", "refresh_params", "response", "header"] as const;

/** URL fields that may hold `{var}` templates: a preset's endpoint URLs, and the connection's test and base URLs. */
export const URL_FIELDS = [...TEMPLATED_FIELDS, "test_url", "base_url"] as const;

export type UrlField = (typeof URL_FIELDS)[number];

/** A connection's fields after the preset is applied; `scopes` normalised to a list. */
export type MergedConnection = Omit<ConnectionConfig, "scopes"> & { scopes: string[] };

/** Scopes as a list: a list, or one string split on whitespace; duplicates dropped, order kept. */
export function scopeList(scopes: string | string[] | undefined): string[] {
  const items = typeof scopes === "string" ? [scopes] : (scopes ?? []);
  return [...new Set(items.flatMap((item) => item.split(/\s+/)).filter(Boolean))];
}

/** Header maps merge case-insensitively: `accept` in the connection replaces the preset's `Accept`. */
function mergeHeaders(base: Record<string, string> = {}, own: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (!Object.keys(own).some((key) => key.toLowerCase() === name.toLowerCase())) out[name] = value;
  }
  return { ...out, ...own };
}

/**
 * The scopes a connection requests (SPEC §1 `scopes_mode`): its own, plus (`merge`, the default)
 * the preset's for every grant and for this grant, or the preset's defaults for this grant when
 * it names none; `replace`: its own only.
 */
function presetScopes(conn: ConnectionConfig, preset: Preset | undefined, forGrant: PresetGrant | undefined): string[] {
  const own = scopeList(conn.scopes);
  if (!preset || conn.scopes_mode === "replace") return own;
  const defaults = own.length ? [] : (forGrant?.default_scopes ?? []);
  return scopeList([...own, ...defaults, ...(preset.scopes ?? []), ...(forGrant?.scopes ?? [])]);
}

/** The connection with the preset's defaults applied, those of its grant included. */
export function applyPreset(conn: ConnectionConfig, preset: Preset | undefined): MergedConnection {
  const forGrant = preset?.grants?.[grantOf({ ...conn, grant: conn.grant ?? preset.grant, authorization_url: conn.authorization_url ?? preset.authorization_url })];
  const merged: MergedConnection = { ...conn, scopes: presetScopes(conn, preset, forGrant) };
  if (!preset) return merged;
  const target = merged as Record<string, unknown>;
  for (const field of PRESET_SCALARS) target[field] = conn[field] ?? preset[field];
  for (const field of PRESET_MAPS) {
    const grantMap = field === "authorization_params" || field === "token_params" || field === "refresh_params" ? forGrant?.[field] : undefined;
    if (preset[field] || grantMap || conn[field]) target[field] = { ...preset[field], ...grantMap, ...conn[field] };
  }
  if (preset.token_headers || conn.token_headers) merged.token_headers = mergeHeaders(preset.token_headers, conn.token_headers);
  return merged;
}

/** `{name}` templates; `${` (a reference) and `$${` (an escaped one) are not templates. */
const TEMPLATE = /(?<!\$)\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** A URL with its `{var}` templates filled; an unfilled one is an error naming the field. */
export function fillUrlTemplate(value: string, vars: Record<string, string>, field: string, options: ConfigErrorOptions & { preset?: string }): string {
  return value.replace(TEMPLATE, (_, name: string) => {
    const filled = vars[name];
    if (filled !== undefined) return filled;
    const origin = options.preset ? ` (from provider ${options.preset})` : "";
    throw configError(field, `template {${name}} is not filled${origin}`, { ...options, hint: `set it on the connection: vars: { ${name}: ... }` });
  });
}

/**
 * Parameter values with `{scopes}` (the requested scopes, joined) and known vars filled.
 * Unknown `{...}` stay as written: parameter values may legitimately contain braces.
 */
export function fillParamTemplates(params: Record<string, string> | undefined, vars: Record<string, string>, scopes: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(params ?? {})) {
    const filled = value.replace(TEMPLATE, (whole, key: string) => (key === "scopes" ? scopes : (vars[key] ?? whole)));
    // `scope: "{scopes}"` with no scopes would send an empty parameter: leave it out instead.
    if (filled.trim() || !value.includes("{scopes}")) out[name] = filled;
  }
  return out;
}

import type { Preset } from "./registry.js";

/**
 * The `{var}` templates of a preset's URLs, so that `tokensmith providers NAME`, the docs and
 * the tests can say which `vars` a connection must set (a shop, a subdomain, a realm) and which
 * have defaults (a tenant, a region).
 */

/** A preset's endpoint URLs: the fields the config layer fills `{var}` templates in (config/merge.ts builds on this list). */
export const TEMPLATED_FIELDS = [
  "issuer",
  "discovery_url",
  "authorization_url",
  "token_url",
  "revocation_url",
  "introspection_url",
  "device_authorization_url",
  "userinfo_url",
] as const;

/** `{name}`, the config layer's template syntax; `${...}` is a reference, not a template. */
const TEMPLATE = /(?<!\$)\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export interface PresetVariable {
  name: string;
  /** The preset's default; without one the connection must set `vars.<name>`. */
  default?: string;
}

/** Template names in one string, in order of appearance. */
export function templateNames(value: string): string[] {
  return [...value.matchAll(TEMPLATE)].map((match) => match[1] as string);
}

/**
 * Every variable the preset's URLs use, plus any it gives a default for, in order of first
 * use; each with its default when the preset has one.
 */
export function presetVariables(preset: Preset): PresetVariable[] {
  const names = new Set<string>();
  for (const field of TEMPLATED_FIELDS) {
    const value = preset[field];
    if (value) for (const name of templateNames(value)) names.add(name);
  }
  for (const name of Object.keys(preset.vars ?? {})) names.add(name);
  return [...names].map((name) => {
    const fallback = preset.vars?.[name];
    return fallback === undefined ? { name } : { name, default: fallback };
  });
}

/** The variables a connection using this preset must set itself. */
export function requiredVariables(preset: Preset): string[] {
  return presetVariables(preset)
    .filter((variable) => variable.default === undefined)
    .map((variable) => variable.name);
}

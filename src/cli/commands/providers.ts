import type { Command } from "commander";
import { TokenSmithError } from "../../errors.js";
import { getPreset, listPresets, type Preset } from "../../providers/registry.js";
import { presetVariables, requiredVariables, TEMPLATED_FIELDS } from "../../providers/variables.js";
import { didYouMean } from "../../config/suggest.js";
import type { CliRun } from "../context.js";

/** `tokensmith providers [NAME]`: the preset catalogue. Needs no config. */

/** Preset fields shown under "quirks": how this provider differs from plain RFC 6749. */
const QUIRK_FIELDS = [
  "grant",
  "scope_in_assertion",
  "client_auth",
  "basic_encoding",
  "token_body",
  "scope_separator",
  "scopes",
  "authorization_params",
  "token_params",
  "refresh_params",
  "token_headers",
  "response",
  "header",
  "default_ttl",
] as const;

/** Padding of the name column; the longest preset name is shorter. */
const NAME_WIDTH = 12;
/** Padding of the field-name column in the detail view (device_authorization_url). */
const FIELD_WIDTH = 26;

/** Fields whose bare value would read badly: quote a separator, spell out a header and "never". */
function showQuirk(field: (typeof QUIRK_FIELDS)[number], preset: Preset): string {
  if (field === "scope_separator") return JSON.stringify(preset.scope_separator);
  if (field === "header") return `${preset.header?.name ?? "Authorization"}: ${preset.header?.value ?? "Bearer {token}"}`;
  if (field === "scopes") return `${show(preset.scopes)} (always requested)`;
  if (field === "default_ttl" && preset.default_ttl === "never") return "never (no expires_in: used until an API answers 401)";
  return show(preset[field]);
}

function show(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.join(" ");
  if (value && typeof value === "object") {
    return Object.entries(value)
      .map(([key, inner]) => `${key}=${typeof inner === "string" ? inner : JSON.stringify(inner)}`)
      .join(", ");
  }
  return JSON.stringify(value);
}

/** One line per preset: name, title, then what a connection must add (required vars). */
export function renderList(presets: readonly Preset[]): string {
  const lines = presets.map((preset) => {
    const needs = requiredVariables(preset);
    const extra = [needs.length ? `needs vars: ${needs.join(", ")}` : "", preset.notes?.length ? `${preset.notes.length} note${preset.notes.length === 1 ? "" : "s"}` : ""]
      .filter(Boolean)
      .join("; ");
    return `${preset.name.padEnd(NAME_WIDTH)} ${preset.title}${extra ? `  (${extra})` : ""}`;
  });
  return [...lines, "", `${presets.length} providers. \`tokensmith providers NAME\` shows one; use it with \`provider: NAME\` in a connection.`].join("\n");
}

function section(title: string, rows: Array<[string, string]>): string[] {
  if (rows.length === 0) return [];
  return ["", title, ...rows.map(([key, value]) => `  ${key.padEnd(FIELD_WIDTH)} ${value}`)];
}

/** A connection snippet for the config file, with the variables that have no default. */
function example(preset: Preset): string[] {
  const env = preset.name.toUpperCase().replace(/-/g, "_");
  const needs = requiredVariables(preset);
  return [
    "",
    "example (tokensmith.yaml)",
    "  connections:",
    `    ${preset.name}:`,
    `      provider: ${preset.name}`,
    ...(needs.length ? [`      vars: { ${needs.map((name) => `${name}: ...`).join(", ")} }`] : []),
    `      client_id: \${env:${env}_CLIENT_ID}`,
    `      client_secret: \${env:${env}_CLIENT_SECRET}`,
  ];
}

/** Everything a user must know about one preset: endpoints, variables, quirks, notes. */
export function renderPreset(preset: Preset): string {
  const endpoints: Array<[string, string]> = [];
  for (const field of TEMPLATED_FIELDS) {
    const value = preset[field];
    if (value) endpoints.push([field, value]);
  }
  if (preset.issuerTemplate) endpoints.push(["issuer (template)", preset.issuerTemplate]);
  const variables = presetVariables(preset).map((variable): [string, string] => [variable.name, variable.default === undefined ? "required" : `default ${variable.default}`]);
  const quirks: Array<[string, string]> = [];
  for (const field of QUIRK_FIELDS) {
    if (preset[field] !== undefined) quirks.push([field, showQuirk(field, preset)]);
  }
  // Per grant (SPEC §1: presets are per grant), e.g. Microsoft's offline_access for user logins only.
  for (const [grant, entry] of Object.entries(preset.grants ?? {})) {
    const parts = [
      entry.scopes && `scopes ${show(entry.scopes)} (always requested)`,
      entry.default_scopes && `scopes ${show(entry.default_scopes)} (when none are set)`,
      ...(["authorization_params", "token_params", "refresh_params"] as const).map((name) => entry[name] && `${name} ${show(entry[name])}`),
    ].filter(Boolean);
    if (parts.length) quirks.push([`${grant}`, parts.join("; ")]);
  }
  const notes = (preset.notes ?? []).map((note) => `  - ${note}`);
  return [
    `${preset.name}: ${preset.title}`,
    ...(preset.docs ? [`docs: ${preset.docs}`] : []),
    ...section("endpoints", endpoints),
    ...section("vars", variables),
    ...section("quirks", quirks),
    ...(notes.length ? ["", "notes", ...notes] : []),
    ...example(preset),
  ].join("\n");
}

/**
 * A preset as `providers --json` prints it: the config's own (snake_case) field names, the
 * template variables it takes; the one camelCase field of the type under its config name.
 */
function presetJson(preset: Preset): Record<string, unknown> {
  const { issuerTemplate, ...fields } = preset;
  return { ...fields, ...(issuerTemplate ? { issuer_template: issuerTemplate } : {}), variables: presetVariables(preset) };
}

export function registerProviders(program: Command, run: CliRun): void {
  program
    .command("providers")
    .description("list provider presets, or show one")
    .argument("[name]", "preset name")
    .action(
      run.action(async (ctx, name: string | undefined) => {
        if (!name) {
          const presets = listPresets();
          ctx.printer.data(renderList(presets), presets.map(presetJson));
          return;
        }
        const preset = getPreset(name);
        if (!preset) {
          const hint = [didYouMean(name, listPresets().map((p) => p.name)), "run `tokensmith providers` to list them"].filter(Boolean).join(" ");
          throw new TokenSmithError("usage_error", `unknown provider "${name}"`, { hint });
        }
        ctx.printer.data(renderPreset(preset), presetJson(preset));
      }),
    );
}

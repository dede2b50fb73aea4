import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { CONNECTION_NAME } from "../config/schema.js";
import { GRANT_NAMES, GRANT_TABLE, type GrantName } from "../config/grants.js";
import { didYouMean } from "../config/suggest.js";
import { TokenSmithError } from "../errors.js";
import { getPreset, listPresets, type Preset } from "../providers/registry.js";
import { requiredVariables } from "../providers/variables.js";
import { promptHidden, type Terminal } from "./passphrase.js";
import { promptLine, promptSelect, type Choice } from "./prompt.js";

/**
 * What `tokensmith add` asks (SPEC §3): from flags, and on a terminal the rest by prompts. The
 * secret's place is an environment variable or a 0600 file, never the config itself.
 */

/** `add`'s own flags, as commander gives them. */
export interface AddFlags {
  provider?: string;
  grant?: string;
  clientId?: string;
  secretEnv?: string;
  secretFile?: string;
  scopes?: string;
  tokenUrl?: string;
  authorizationUrl?: string;
  var?: string[];
  force?: boolean;
}

export interface Answers {
  name: string;
  /** undefined: a custom connection with its own endpoints. */
  preset?: Preset;
  vars: Record<string, string>;
  tokenUrl?: string;
  authorizationUrl?: string;
  grant?: GrantName;
  clientId: string;
  secret: { kind: "none" } | { kind: "env"; variable: string } | { kind: "file"; path: string; value?: string };
  scopes: string[];
}

export const CUSTOM = "custom";
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const usage = (message: string, hint: string) => new TokenSmithError("usage_error", message, { hint });

/** The flags that make prompts unnecessary: a name, a client id and a provider or token URL. */
export function hasRequiredFlags(name: string | undefined, flags: AddFlags): boolean {
  return !!name && !!flags.clientId && !!(flags.provider || flags.tokenUrl);
}

/** The grants a connection to this preset can use: from its endpoints, or every grant needing nothing more for a custom one. */
export function grantsFor(preset: Preset | undefined): GrantName[] {
  if (!preset) return GRANT_NAMES.filter((grant) => GRANT_TABLE[grant].requires.length === 0 && grant !== "refresh_token");
  const grants: GrantName[] = [];
  if (preset.authorization_url) grants.push("authorization_code");
  if (preset.device_authorization_url) grants.push("device_code");
  if (preset.token_url || preset.discovery_url || preset.issuer || preset.issuerTemplate) grants.push("client_credentials");
  return grants.length ? grants : ["authorization_code", "client_credentials"];
}

function checkName(name: string): string {
  if (!CONNECTION_NAME.test(name)) throw usage(`invalid connection name "${name}"`, "use letters, digits, '.', '_' and '-', starting with a letter or digit");
  return name;
}

function checkPreset(name: string): Preset | undefined {
  if (name.toLowerCase() === CUSTOM) return undefined;
  const preset = getPreset(name);
  if (!preset) {
    const hint = [didYouMean(name, listPresets().map((p) => p.name)), "run `tokensmith providers` to list them, or use --token-url for a custom server"];
    throw usage(`--provider: unknown provider "${name}"`, hint.filter(Boolean).join(" "));
  }
  return preset;
}

function checkGrant(grant: string): GrantName {
  if (!(GRANT_NAMES as readonly string[]).includes(grant)) throw usage(`--grant: unknown grant "${grant}"`, `one of: ${GRANT_NAMES.join(", ")}`);
  return grant as GrantName;
}

function checkEnvName(variable: string): string {
  if (!ENV_NAME.test(variable)) throw usage(`--secret-env: "${variable}" is not an environment variable name`, "e.g. --secret-env BILLING_CLIENT_SECRET");
  return variable;
}

function parseVars(pairs: readonly string[] = []): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at < 1) throw usage(`--var: expected NAME=VALUE (got "${pair}")`, "e.g. --var tenant=contoso");
    vars[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return vars;
}

const scopeList = (text: string | undefined) => (text ?? "").split(/[\s,]+/).filter(Boolean);

/** Suggested environment variable for a connection's secret: BILLING_CLIENT_SECRET. */
export const secretEnvFor = (name: string) => `${name.toUpperCase().replace(/[^A-Z0-9]+/g, "_")}_CLIENT_SECRET`;

/** The answers from flags alone (scripts): a usage error naming the first missing flag. */
export function answersFromFlags(name: string | undefined, flags: AddFlags, secretFromStdin?: string): Answers {
  if (!name) throw usage("missing the connection name", "tokensmith add NAME --provider P --client-id ID (or run it on a terminal to be asked)");
  const preset = flags.provider ? checkPreset(flags.provider) : undefined;
  if (!preset && !flags.tokenUrl) throw usage("missing --provider (or --token-url for a custom server)", "`tokensmith providers` lists the presets");
  if (!flags.clientId) throw usage("missing --client-id", "the client id the provider gave your application");
  const vars = parseVars(flags.var);
  const unset = preset ? requiredVariables(preset).filter((variable) => !vars[variable]) : [];
  if (unset.length) throw usage(`missing --var ${unset[0]}=VALUE (provider ${preset!.name} needs ${unset.join(", ")})`, `see tokensmith providers ${preset!.name}`);
  return {
    name: checkName(name),
    preset,
    vars,
    tokenUrl: flags.tokenUrl,
    authorizationUrl: flags.authorizationUrl,
    grant: flags.grant ? checkGrant(flags.grant) : undefined,
    clientId: flags.clientId,
    secret: secretFromFlags(flags, secretFromStdin),
    scopes: scopeList(flags.scopes),
  };
}

function secretFromFlags(flags: AddFlags, secretFromStdin: string | undefined): Answers["secret"] {
  if (flags.secretEnv && flags.secretFile) throw usage("--secret-env and --secret-file both given", "the secret lives in one place: choose one");
  if (flags.secretEnv) return { kind: "env", variable: checkEnvName(flags.secretEnv) };
  if (flags.secretFile) {
    const path = resolve(flags.secretFile);
    if (existsSync(path)) return { kind: "file", path };
    if (!secretFromStdin) throw usage(`--secret-file: ${path} does not exist and no secret came on standard input`, "pipe the secret in (it is written to that file, 0600), or name an existing file");
    return { kind: "file", path, value: secretFromStdin };
  }
  return { kind: "none" };
}

/** Asks on the terminal for everything the flags left out. */
export async function askAnswers(terminal: Terminal, name: string | undefined, flags: AddFlags, configPath: string, taken: readonly string[]): Promise<Answers> {
  const out = terminal.output;
  let preset: Preset | undefined;
  let tokenUrl = flags.tokenUrl;
  let authorizationUrl = flags.authorizationUrl;
  if (flags.provider) preset = checkPreset(flags.provider);
  else if (!tokenUrl) {
    const choices: Choice[] = [...listPresets().map((p) => ({ value: p.name, label: p.title })), { value: CUSTOM, label: "any OAuth 2.0 server: give its endpoints" }];
    preset = checkPreset(await promptSelect(terminal, "Provider", choices));
  }
  if (!preset) {
    while (!tokenUrl) tokenUrl = await promptLine(terminal, "Token URL");
    authorizationUrl ??= (await promptLine(terminal, "Authorization URL (empty when there is none)")) || undefined;
  }
  const vars = parseVars(flags.var);
  for (const variable of preset ? requiredVariables(preset) : []) {
    while (!vars[variable]) vars[variable] = await promptLine(terminal, `vars.${variable} (see tokensmith providers ${preset!.name})`);
  }
  let connection = name;
  while (!connection || taken.includes(connection) && !flags.force || !CONNECTION_NAME.test(connection)) {
    if (connection) out.write(taken.includes(connection) ? `"${connection}" exists already in ${configPath}\n` : `"${connection}": use letters, digits, '.', '_' and '-'\n`);
    connection = await promptLine(terminal, "Connection name", connection ? undefined : preset?.name);
  }
  let grant = flags.grant ? checkGrant(flags.grant) : undefined;
  if (!grant) {
    const grants = grantsFor(preset ? preset : authorizationUrl ? undefined : { name: "", title: "", token_url: tokenUrl });
    grant = grants.length === 1 ? grants[0] : checkGrant(await promptSelect(terminal, "Grant", grants.map((g) => ({ value: g, label: GRANT_LABELS[g] }))));
    if (grants.length === 1) out.write(`Grant: ${grant}\n`);
  }
  let clientId = flags.clientId;
  while (!clientId) clientId = await promptLine(terminal, "Client id");
  const secret = flags.secretEnv || flags.secretFile ? secretFromFlags(flags, undefined) : await askSecret(terminal, connection, configPath);
  if (secret.kind === "file" && !secret.value && !existsSync(secret.path)) secret.value = await askSecretValue(terminal);
  const always = preset?.scopes?.length ? ` (${preset.scopes.join(" ")} always requested)` : "";
  const scopes = flags.scopes !== undefined ? scopeList(flags.scopes) : scopeList(await promptLine(terminal, `Scopes, space-separated${always}`));
  return { name: connection, preset, vars, tokenUrl, authorizationUrl, grant, clientId, secret, scopes };
}

const GRANT_LABELS: Partial<Record<GrantName, string>> = {
  authorization_code: "a person signs in in the browser (tokensmith login)",
  device_code: "a person enters a code on another device (tokensmith login)",
  client_credentials: "the application itself, no person",
};

async function askSecret(terminal: Terminal, name: string, configPath: string): Promise<Answers["secret"]> {
  const where = await promptSelect(terminal, "Client secret", [
    { value: "env", label: "in an environment variable (written as ${env:NAME})" },
    { value: "file", label: "in a 0600 file beside the config (typed here, not echoed)" },
    { value: "none", label: "no secret: a public client (PKCE)" },
  ]);
  if (where === "env") {
    let variable = "";
    while (!ENV_NAME.test(variable)) variable = await promptLine(terminal, "Environment variable", secretEnvFor(name));
    return { kind: "env", variable };
  }
  if (where === "file") {
    const path = resolve(dirname(configPath), await promptLine(terminal, "Secret file", join(dirname(configPath), `${name}.client-secret`)));
    return { kind: "file", path };
  }
  return { kind: "none" };
}

async function askSecretValue(terminal: Terminal): Promise<string> {
  let value = "";
  while (!value) value = (await promptHidden(terminal, "Client secret (not shown): ")).trim();
  return value;
}

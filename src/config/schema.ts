import { z } from "zod";
import { DURATION_HINT, durationProblem, tryParseDuration } from "./duration.js";
import { isLoopbackHost } from "./urls.js";

/**
 * The shape of the config file (SPEC §1), checked eagerly and whole at load. Field names are
 * the file's own (snake_case); unknown fields are errors, so a typo never silently becomes a
 * default. `${env:}`/`${file:}` references are plain strings here: they are resolved per
 * connection, when it is first used.
 */

export const GRANTS = ["authorization_code", "device_code", "refresh_token", "client_credentials", "password", "jwt_bearer"] as const;
export const CLIENT_AUTHS = ["basic", "post", "none", "private_key_jwt", "client_secret_jwt"] as const;
export const STORE_TYPES = ["memory", "file", "postgres", "redis"] as const;
/** JWS algorithms jose can sign with; anything else is a typo or unsupported. */
export const JWS_ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519", "HS256", "HS384", "HS512"] as const;

/** Connection names: safe in URLs, file names and shells. */
export const CONNECTION_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Longest connection name; names appear in paths, keys and terminal tables. */
const MAX_NAME_LENGTH = 64;
/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A Postgres schema name we are willing to interpolate into SQL. */
const SQL_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Gateway keys shorter than this are guessable. */
export const MIN_API_KEY_LENGTH = 16;
/** A literal value (no `${...}` reference), checkable before resolution. */
const isLiteral = (value: string) => !value.includes("${");

function kind(input: unknown): string {
  if (input === null) return "null";
  if (Array.isArray(input)) return "a list";
  if (typeof input === "object") return "a map";
  return `a ${typeof input}`;
}

/** Type errors that say what was expected and what kind of value was found (never the value). */
const expected = (what: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? "required" : `expected ${what} (got ${kind(issue.input)})`;

const text = z.string({ error: expected("a string") }).min(1, { error: "must not be empty" });
const texts = z.array(text, { error: expected("a list of strings") });
const flag = z.boolean({ error: expected("true or false") });
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: (issue) => (issue.input === undefined ? "required" : `must be one of ${values.join(", ")}`) });

const duration = z.union([z.number(), z.string()], { error: expected("a duration") }).superRefine((value, ctx) => {
  if (tryParseDuration(value) === undefined) ctx.addIssue({ code: "custom", message: durationProblem(value), params: { hint: DURATION_HINT } });
});
const positiveDuration = duration.superRefine((value, ctx) => {
  if (tryParseDuration(value) === 0) ctx.addIssue({ code: "custom", message: "must be longer than 0" });
});
const ttl = z.union([z.number(), z.string()], { error: expected("a duration or never") }).superRefine((value, ctx) => {
  if (value === "never") return;
  const ms = tryParseDuration(value);
  if (ms === undefined) ctx.addIssue({ code: "custom", message: durationProblem(value), params: { hint: `${DURATION_HINT}, or never` } });
  else if (ms === 0) ctx.addIssue({ code: "custom", message: "must be longer than 0", params: { hint: "use never for tokens that do not expire" } });
});

const scalar = z.union([z.string(), z.number(), z.boolean()], { error: expected("a string, number or boolean") }).transform(String);
const params = z.record(z.string(), scalar, { error: expected("a map of names to values") });
const vars = z.record(z.string(), z.union([z.string(), z.number()], { error: expected("a string") }).transform(String), {
  error: expected("a map of names to values"),
});
const headerName = z.string().regex(HEADER_NAME, { error: "not a valid HTTP header name" });
const headers = z.record(headerName, text, { error: expected("a map of header names to values") });

const assertionSchema = z.strictObject(
  {
    iss: text.optional(),
    sub: text.optional(),
    aud: text.optional(),
    kid: text.optional(),
    alg: oneOf(JWS_ALGS).optional(),
    ttl: positiveDuration.optional(),
    claims: z.record(z.string(), z.unknown(), { error: expected("a map of claims") }).optional(),
  },
  { error: expected("a map") },
);

const jsonPath = text.refine((value) => value.startsWith("$"), { error: "must be a JSONPath expression starting with $" });
const responseSchema = z.strictObject(
  {
    access_token: jsonPath.optional(),
    refresh_token: jsonPath.optional(),
    expires_in: jsonPath.optional(),
    expires_at: jsonPath.optional(),
    token_type: jsonPath.optional(),
    scope: jsonPath.optional(),
    id_token: jsonPath.optional(),
    expires_at_unit: oneOf(["s", "ms"]).optional(),
  },
  { error: expected("a map") },
);

const headerSchema = z.strictObject(
  {
    name: headerName.optional(),
    value: text.refine((value) => value.includes("{token}"), { error: 'must contain {token}, e.g. "Bearer {token}"' }).optional(),
  },
  { error: expected("a map") },
);

/** HTTP statuses a retry may be configured for. */
const MIN_STATUS = 100;
const MAX_STATUS = 599;
/** More API retries than this only hammers a struggling server. */
const MAX_API_RETRIES = 10;
const apiRetrySchema = z.strictObject(
  {
    max: z.number({ error: expected("a number") }).int().min(0).max(MAX_API_RETRIES, { error: `must be at most ${MAX_API_RETRIES}` }).optional(),
    on: z.array(z.number().int().min(MIN_STATUS).max(MAX_STATUS), { error: expected("a list of HTTP statuses") }).optional(),
  },
  { error: expected("a map") },
);

export const connectionShape = {
  provider: text.optional(),
  vars: vars.optional(),
  issuer: text.optional(),
  discovery_url: text.optional(),
  grant: oneOf(GRANTS).optional(),
  grant_type: text.optional(),
  account: text.optional(),
  authorization_url: text.optional(),
  token_url: text.optional(),
  revocation_url: text.optional(),
  introspection_url: text.optional(),
  device_authorization_url: text.optional(),
  userinfo_url: text.optional(),
  client_id: text.optional(),
  client_secret: text.optional(),
  client_auth: oneOf(CLIENT_AUTHS).optional(),
  basic_encoding: oneOf(["form", "raw"]).optional(),
  private_key: z.union([text, z.record(z.string(), z.unknown())], { error: expected("PEM text or a JWK") }).optional(),
  assertion: assertionSchema.optional(),
  scopes: z.union([z.array(text), z.string()], { error: expected("a list of scopes or one space-separated string") }).optional(),
  scope_separator: z.string({ error: expected("a string") }).min(1, { error: "must not be empty" }).optional(),
  audience: text.optional(),
  resource: z.union([text, z.array(text).min(1)], { error: expected("a string or a list of strings") }).optional(),
  redirect_uri: text.optional(),
  pkce: oneOf(["S256", "plain", "off"]).optional(),
  username: text.optional(),
  password: text.optional(),
  refresh_token: text.optional(),
  authorization_params: params.optional(),
  token_params: params.optional(),
  refresh_params: params.optional(),
  token_headers: headers.optional(),
  token_body: oneOf(["form", "json"]).optional(),
  response: responseSchema.optional(),
  header: headerSchema.optional(),
  allowed_origins: texts.optional(),
  api_retry: apiRetrySchema.optional(),
  refresh_margin: duration.optional(),
  default_ttl: ttl.optional(),
  cache: oneOf(["shared", "process", "none"]).optional(),
  timeout: positiveDuration.optional(),
  allow_insecure_http: flag.optional(),
  test_url: text.optional(),
};

export const connectionSchema = z.strictObject(connectionShape, { error: expected("a map of connection fields") });

const storeShape = {
  type: oneOf(STORE_TYPES).optional(),
  dir: text.optional(),
  url: text.optional(),
  schema: text.regex(SQL_IDENTIFIER, { error: "must be a plain SQL identifier (letters, digits, _)" }).optional(),
  prefix: text.optional(),
  key: text.optional(),
  old_keys: texts.optional(),
};

/** Which store types each location field belongs to: a field for another driver is a mistake. */
const STORE_FIELD_TYPES: Record<string, readonly string[]> = {
  dir: ["file"],
  url: ["postgres", "redis"],
  schema: ["postgres"],
  prefix: ["redis"],
};

export const storeSchema = z.strictObject(storeShape, { error: expected("a map") }).superRefine((store, ctx) => {
  const type = store.type ?? "file";
  for (const [field, types] of Object.entries(STORE_FIELD_TYPES)) {
    if (store[field as keyof typeof store] !== undefined && !types.includes(type)) {
      ctx.addIssue({ code: "custom", path: [field], message: `only applies to store type ${types.join(" or ")} (this store is ${type})` });
    }
  }
  if (type === "postgres" || type === "redis") {
    const hint = "a shared store is encrypted with a key every machine has: key: ${env:TOKENSMITH_KEY} (32 bytes, base64)";
    if (!store.url) ctx.addIssue({ code: "custom", path: ["url"], message: `required for store type ${type}` });
    if (!store.key) ctx.addIssue({ code: "custom", path: ["key"], message: `required for store type ${type}`, params: { hint } });
  }
});

const gatewayShape = {
  port: z.number({ error: expected("a port number") }).int().min(0).max(65535, { error: "must be a port number (0-65535)" }).optional(),
  host: text.optional(),
  api_keys: z
    .array(
      z.strictObject(
        {
          key: text.refine((key) => !isLiteral(key) || key.length >= MIN_API_KEY_LENGTH, {
            error: `too short: use at least ${MIN_API_KEY_LENGTH} random characters`,
          }),
          connections: texts.optional(),
        },
        { error: expected("a map with key (and connections)") },
      ),
      { error: expected("a list") },
    )
    .optional(),
  tls: z.strictObject({ cert: text, key: text }, { error: expected("a map with cert and key") }).optional(),
};

export const gatewaySchema = z.strictObject(gatewayShape, { error: expected("a map") }).superRefine((gateway, ctx) => {
  if (gateway.host && !gateway.tls && !isLoopbackHost(gateway.host)) {
    ctx.addIssue({
      code: "custom",
      path: ["host"],
      message: `binding a non-loopback address (${gateway.host}) needs gateway.tls`,
      params: { hint: "add gateway.tls: {cert: ..., key: ...}, or bind 127.0.0.1 and put a TLS proxy in front" },
    });
  }
});

const connectionName = z
  .string()
  .max(MAX_NAME_LENGTH, { error: `not a valid connection name (longer than ${MAX_NAME_LENGTH} characters)` })
  .regex(CONNECTION_NAME, { error: "not a valid connection name" });

const configShape = {
  /** Editors' JSON-schema pointer; ignored. */
  $schema: z.string().optional(),
  // Nullable: `connections:` with nothing under it (YAML null) reads as "none yet".
  store: storeSchema.nullish(),
  gateway: gatewaySchema.nullish(),
  connections: z.record(connectionName, connectionSchema, { error: expected("a map of connection names to connections") }).nullish(),
};

export const configSchema = z.strictObject(configShape, { error: expected("a map with store, gateway and connections") }).superRefine((config, ctx) => {
  const names = new Set(Object.keys(config.connections ?? {}));
  config.gateway?.api_keys?.forEach((apiKey, i) => {
    apiKey.connections?.forEach((name, j) => {
      if (!names.has(name)) {
        ctx.addIssue({ code: "custom", path: ["gateway", "api_keys", i, "connections", j], message: `unknown connection ${JSON.stringify(name)}` });
      }
    });
  });
});

export type ConfigFile = z.output<typeof configSchema>;
export type ConnectionConfig = z.output<typeof connectionSchema>;
export type StoreSection = z.output<typeof storeSchema>;
export type GatewaySection = z.output<typeof gatewaySchema>;

/** The fields allowed at a path of the file, for "did you mean" hints on unknown fields. */
export function fieldsAt(path: readonly PropertyKey[]): string[] {
  const keys = path.filter((segment) => typeof segment !== "number").map(String);
  const [section, , sub] = keys;
  if (keys.length === 0) return Object.keys(configShape);
  if (section === "store") return Object.keys(storeShape);
  if (section === "gateway") {
    if (keys[1] === "api_keys") return ["key", "connections"];
    if (keys[1] === "tls") return ["cert", "key"];
    return Object.keys(gatewayShape);
  }
  if (section === "connections") {
    const nested: Record<string, string[]> = {
      assertion: Object.keys(assertionSchema.shape),
      response: Object.keys(responseSchema.shape),
      header: ["name", "value"],
      api_retry: ["max", "on"],
    };
    return sub === undefined ? Object.keys(connectionShape) : (nested[sub] ?? []);
  }
  return [];
}

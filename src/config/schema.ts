import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";
import { DURATION_HINT, durationProblem, tryParseDuration } from "./duration.js";
import { GRANT_NAMES } from "./grants.js";
import { JSONPATH_HINT, jsonPathProblem } from "../protocol/jsonpath.js";
import { API_KEY_HINT, apiKeyProblem, hostNameProblem, proxyProblem } from "./gateway-rules.js";
import { isLoopbackHost } from "./urls.js";
import { STORE_DRIVERS, STORE_FIELDS, STORE_TYPES } from "../store/registry.js";

/**
 * The shape of the config file (SPEC §1), checked eagerly and whole at load. Field names are
 * the file's own (snake_case); unknown fields are errors, so a typo never silently becomes a
 * default. `${env:}`/`${file:}` references are plain strings here: they are resolved per
 * connection, when it is first used.
 */

// zod/mini (small and quick to load, which `tokensmith token` needs) ships without messages;
// install English, as the classic API does, for the checks that carry no message of their own.
// Not the cycle-support memoizer: no schema here is recursive, so a parse always terminates.
if (!z.config().localeError) z.config(en());

export const GRANTS = GRANT_NAMES;
export const CLIENT_AUTHS = ["auto", "basic", "post", "none", "private_key_jwt", "client_secret_jwt", "tls_client_auth", "self_signed_tls_client_auth"] as const;
export { STORE_TYPES };
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

const text = z.string({ error: expected("a string") }).check(z.minLength(1, { error: "must not be empty" }));
const texts = z.array(text, { error: expected("a list of strings") });
// Schemas are immutable, so one optional wrapper serves every field of a kind: building this
// schema is a large part of a cached `tokensmith token` run, and 78 of its ~200 zod instances
// were z.optional wrappers (docs/decisions.md, CLI start-up).
const optionalText = z.optional(text);
const optionalTexts = z.optional(texts);
const flag = z.boolean({ error: expected("true or false") });
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: (issue) => (issue.input === undefined ? "required" : `must be one of ${values.join(", ")}`) });
/** A string field that must not be empty, and must pass `test` (a check the message explains). */
const textWhere = (test: (value: string) => boolean, error: string) => text.check(z.refine(test, { error }));
/** A string whose problem (a literal's) is checked at load; a reference's value is checked once resolved. */
const literalWhere = (problem: (value: string) => string | undefined, hint?: string) =>
  text.check(
    z.superRefine((value, ctx) => {
      const found = isLiteral(value) ? problem(value) : undefined;
      if (found) ctx.addIssue({ code: "custom", message: found, ...(hint ? { params: { hint } } : {}) });
    }),
  );

const duration = z.union([z.number(), z.string()], { error: expected("a duration") }).check(
  z.superRefine((value, ctx) => {
    if (tryParseDuration(value) === undefined) ctx.addIssue({ code: "custom", message: durationProblem(value), params: { hint: DURATION_HINT } });
  }),
);
const positiveDuration = duration.check(
  z.superRefine((value, ctx) => {
    if (tryParseDuration(value) === 0) ctx.addIssue({ code: "custom", message: "must be longer than 0" });
  }),
);
const optionalPositiveDuration = z.optional(positiveDuration);
const ttl = z.union([z.number(), z.string()], { error: expected("a duration or never") }).check(
  z.superRefine((value, ctx) => {
    if (value === "never") return;
    const ms = tryParseDuration(value);
    if (ms === undefined) ctx.addIssue({ code: "custom", message: durationProblem(value), params: { hint: `${DURATION_HINT}, or never` } });
    else if (ms === 0) ctx.addIssue({ code: "custom", message: "must be longer than 0", params: { hint: "use never for tokens that do not expire" } });
  }),
);

const scalar = z.pipe(z.union([z.string(), z.number(), z.boolean()], { error: expected("a string, number or boolean") }), z.transform(String));
const optionalParams = z.optional(z.record(z.string(), scalar, { error: expected("a map of names to values") }));
const vars = z.record(z.string(), z.pipe(z.union([z.string(), z.number()], { error: expected("a string") }), z.transform(String)), {
  error: expected("a map of names to values"),
});
const headerName = z.string().check(z.regex(HEADER_NAME, { error: "not a valid HTTP header name" }));
const headers = z.record(headerName, text, { error: expected("a map of header names to values") });
/**
 * `token_headers` add headers to token, revocation and introspection requests; they cannot
 * replace `Accept: application/json` (SPEC §2.13), so one named Accept is a config error
 * rather than a header silently dropped.
 */
const tokenHeaders = headers.check(
  z.superRefine((value, ctx) => {
    for (const name of Object.keys(value)) {
      if (name.toLowerCase() !== "accept") continue;
      ctx.addIssue({
        code: "custom",
        path: [name],
        message: "cannot replace Accept: tokensmith always sends Accept: application/json to the authorization server",
        params: { hint: "remove it; token_headers add headers, and token responses are read as JSON or form-encoded whatever the server sends" },
      });
    }
  }),
);

const assertionShape = {
  iss: optionalText,
  sub: optionalText,
  aud: optionalText,
  kid: optionalText,
  alg: z.optional(oneOf(JWS_ALGS)),
  ttl: optionalPositiveDuration,
  claims: z.optional(z.record(z.string(), z.unknown(), { error: expected("a map of claims") })),
  x5t: z.optional(oneOf(["sha1"])),
};
const assertionSchema = z.strictObject(assertionShape, { error: expected("a map") });

/** A JSONPath of the subset protocol/jsonpath.ts reads; one inside a `${...}` reference is checked once resolved. */
const optionalJsonPath = z.optional(
  text.check(
    z.superRefine((value, ctx) => {
      const problem = isLiteral(value) ? jsonPathProblem(value) : undefined;
      if (problem) ctx.addIssue({ code: "custom", message: problem, params: { hint: JSONPATH_HINT } });
    }),
  ),
);
const responseShape = {
  access_token: optionalJsonPath,
  refresh_token: optionalJsonPath,
  expires_in: optionalJsonPath,
  expires_at: optionalJsonPath,
  token_type: optionalJsonPath,
  scope: optionalJsonPath,
  id_token: optionalJsonPath,
  expires_at_unit: z.optional(oneOf(["s", "ms"])),
};
const responseSchema = z.strictObject(responseShape, { error: expected("a map") });

const headerSchema = z.strictObject(
  {
    name: z.optional(headerName),
    value: z.optional(textWhere((value) => value.includes("{token}"), 'must contain {token}, e.g. "Bearer {token}"')),
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
    max: z.optional(
      z.number({ error: expected("a number") }).check(z.int(), z.minimum(0), z.maximum(MAX_API_RETRIES, { error: `must be at most ${MAX_API_RETRIES}` })),
    ),
    on: z.optional(z.array(z.number().check(z.int(), z.minimum(MIN_STATUS), z.maximum(MAX_STATUS)), { error: expected("a list of HTTP statuses") })),
  },
  { error: expected("a map") },
);

const PROXY_HINT = "e.g. proxy: http://proxy.example.com:3128 (credentials: ${env:HTTPS_PROXY} or http://user:${env:PROXY_PASSWORD}@host:port), or none to go direct";
const proxySchema = z.optional(literalWhere(proxyProblem, PROXY_HINT));
const tlsShape = { ca_file: optionalText, client_cert: optionalText, client_key: optionalText };
/** `tls:`: extra CAs and a client certificate; a certificate goes with its key. */
const tlsSchema = z.optional(
  z.strictObject(tlsShape, { error: expected("a map with ca_file, client_cert, client_key") }).check(
    z.superRefine((tls, ctx) => {
      if (Boolean(tls.client_cert) !== Boolean(tls.client_key)) {
        const missing = tls.client_cert ? "client_key" : "client_cert";
        ctx.addIssue({ code: "custom", path: [missing], message: "required with " + (tls.client_cert ? "client_cert" : "client_key"), params: { hint: "a client certificate (PEM) goes with its private key (PEM)" } });
      }
    }),
  ),
);

/** A token given in a token exchange: a value or reference, or `{connection: NAME}` for that connection's access token. */
const tokenSource = z.union([text, z.strictObject({ connection: text }, { error: expected("{connection: NAME}") })], {
  error: expected("a token (a value or ${env:}/${file:} reference) or {connection: NAME}"),
});

export const connectionShape = {
  provider: optionalText,
  vars: z.optional(vars),
  issuer: optionalText,
  discovery_url: optionalText,
  grant: z.optional(oneOf(GRANTS)),
  grant_type: optionalText,
  account: optionalText,
  authorization_url: optionalText,
  token_url: optionalText,
  revocation_url: optionalText,
  introspection_url: optionalText,
  device_authorization_url: optionalText,
  userinfo_url: optionalText,
  client_id: optionalText,
  client_secret: optionalText,
  client_auth: z.optional(oneOf(CLIENT_AUTHS)),
  basic_encoding: z.optional(oneOf(["form", "raw"])),
  scopes_mode: z.optional(oneOf(["merge", "replace"])),
  credentials_file: optionalText,
  certificate: optionalText,
  private_key: z.optional(z.union([text, z.record(z.string(), z.unknown())], { error: expected("PEM text or a JWK") })),
  assertion: z.optional(assertionSchema),
  scopes: z.optional(z.union([z.array(text), z.string()], { error: expected("a list of scopes or one space-separated string") })),
  scope_separator: z.optional(z.string({ error: expected("a string") }).check(z.minLength(1, { error: "must not be empty" }))),
  audience: optionalText,
  resource: z.optional(z.union([text, z.array(text).check(z.minLength(1))], { error: expected("a string or a list of strings") })),
  redirect_uri: optionalText,
  pkce: z.optional(oneOf(["S256", "plain", "off"])),
  username: optionalText,
  password: optionalText,
  refresh_token: optionalText,
  subject_token: z.optional(tokenSource),
  subject_token_type: optionalText,
  actor_token: z.optional(tokenSource),
  actor_token_type: optionalText,
  requested_token_type: optionalText,
  authorization_params: optionalParams,
  token_params: optionalParams,
  refresh_params: optionalParams,
  token_headers: z.optional(tokenHeaders),
  token_body: z.optional(oneOf(["form", "json"])),
  response: z.optional(responseSchema),
  header: z.optional(headerSchema),
  allowed_origins: optionalTexts,
  api_retry: z.optional(apiRetrySchema),
  refresh_margin: z.optional(duration),
  default_ttl: z.optional(ttl),
  cache: z.optional(oneOf(["shared", "process", "none"])),
  timeout: optionalPositiveDuration,
  allow_insecure_http: z.optional(flag),
  test_url: optionalText,
  base_url: optionalText,
  proxy: proxySchema,
  tls: tlsSchema,
};

export const connectionSchema = z.strictObject(connectionShape, { error: expected("a map of connection fields") });

const storeShape = {
  type: z.optional(oneOf(STORE_TYPES)),
  dir: optionalText,
  url: optionalText,
  schema: z.optional(text.check(z.regex(SQL_IDENTIFIER, { error: "must be a plain SQL identifier (letters, digits, _)" }))),
  prefix: optionalText,
  cluster: z.optional(texts.check(z.minLength(1, { error: "must list at least one node URL" }))),
  key: optionalText,
  old_keys: optionalTexts,
};

/** Which store types take each location field (the driver registry's rows): a field for another driver is a mistake. */
const STORE_FIELD_TYPES = STORE_FIELDS.map(
  (field) => [field, STORE_TYPES.filter((type) => (STORE_DRIVERS[type].fields as readonly string[]).includes(field))] as const,
);

export const storeSchema = z.strictObject(storeShape, { error: expected("a map") }).check(
  z.superRefine((store, ctx) => {
    const type = store.type ?? "file";
    const driver = STORE_DRIVERS[type];
    for (const [field, types] of STORE_FIELD_TYPES) {
      if (store[field] !== undefined && !types.includes(type)) {
        ctx.addIssue({ code: "custom", path: [field], message: `only applies to store type ${types.join(" or ")} (this store is ${type})` });
      }
    }
    const alternative = "urlOr" in driver ? driver.urlOr : undefined;
    if (alternative && store.url !== undefined && store[alternative] !== undefined) {
      ctx.addIssue({ code: "custom", path: [alternative], message: "give url or cluster, not both" });
    } else if ("schemes" in driver && !store.url && !(alternative && store[alternative])) {
      ctx.addIssue({ code: "custom", path: ["url"], message: `required for store type ${type}${alternative ? ` (or ${alternative})` : ""}` });
    }
    if (driver.needsKey && !store.key) {
      const hint = "a shared store is encrypted with a key every machine has: key: ${env:TOKENSMITH_KEY} (32 bytes, base64)";
      ctx.addIssue({ code: "custom", path: ["key"], message: `required for store type ${type}`, params: { hint } });
    }
  }),
);

/** Highest TCP port number. */
const MAX_PORT = 65535;
const gatewayShape = {
  port: z.optional(z.number({ error: expected("a port number") }).check(z.int(), z.minimum(0), z.maximum(MAX_PORT, { error: "must be a port number (0-65535)" }))),
  host: optionalText,
  api_keys: z.optional(
    z.array(
      z.strictObject(
        {
          key: literalWhere(apiKeyProblem, API_KEY_HINT),
          connections: optionalTexts,
        },
        { error: expected("a map with key (and connections)") },
      ),
      { error: expected("a list") },
    ),
  ),
  /** More names the Host header may carry: a TLS certificate's DNS name. */
  hosts: z.optional(z.array(literalWhere(hostNameProblem, "list names alone, e.g. hosts: [gateway.example.com]"), { error: expected("a list of host names") })),
  tls: z.optional(z.strictObject({ cert: text, key: text }, { error: expected("a map with cert and key") })),
};

export const gatewaySchema = z.strictObject(gatewayShape, { error: expected("a map") }).check(
  z.superRefine((gateway, ctx) => {
    if (gateway.host && !gateway.tls && !isLoopbackHost(gateway.host)) {
      ctx.addIssue({
        code: "custom",
        path: ["host"],
        message: `binding a non-loopback address (${gateway.host}) needs gateway.tls`,
        params: { hint: "add gateway.tls: {cert: ..., key: ...}, or bind 127.0.0.1 and put a TLS proxy in front" },
      });
    }
  }),
);

const connectionName = z
  .string()
  .check(
    z.maxLength(MAX_NAME_LENGTH, { error: `not a valid connection name (longer than ${MAX_NAME_LENGTH} characters)` }),
    z.regex(CONNECTION_NAME, { error: "not a valid connection name" }),
  );

const configShape = {
  /** Editors' JSON-schema pointer; ignored. */
  $schema: z.optional(z.string()),
  // Nullable: `connections:` with nothing under it (YAML null) reads as "none yet".
  store: z.nullish(storeSchema),
  gateway: z.nullish(gatewaySchema),
  /** Defaults of every connection's `proxy` and `tls`. */
  proxy: proxySchema,
  tls: tlsSchema,
  connections: z.nullish(z.record(connectionName, connectionSchema, { error: expected("a map of connection names to connections") })),
};

export const configSchema = z.strictObject(configShape, { error: expected("a map with store, gateway, proxy, tls and connections") }).check(
  z.superRefine((config, ctx) => {
    const names = new Set(Object.keys(config.connections ?? {}));
    config.gateway?.api_keys?.forEach((apiKey, i) => {
      apiKey.connections?.forEach((name, j) => {
        if (!names.has(name)) {
          ctx.addIssue({ code: "custom", path: ["gateway", "api_keys", i, "connections", j], message: `unknown connection ${JSON.stringify(name)}` });
        }
      });
    });
  }),
);

export type ConfigFile = z.output<typeof configSchema>;
/** A config as written (the YAML or JSON file's shape): what `TokenSmith.load({ config })` and `defineConfig()` take. */
export type TokenSmithConfig = z.input<typeof configSchema>;
export type ConnectionConfig = z.output<typeof connectionSchema>;
export type StoreSection = z.output<typeof storeSchema>;
export type GatewaySection = z.output<typeof gatewaySchema>;

/** The fields allowed at a path of the file, for "did you mean" hints on unknown fields. */
export function fieldsAt(path: readonly PropertyKey[]): string[] {
  const keys = path.filter((segment) => typeof segment !== "number").map(String);
  const [section, , sub] = keys;
  if (keys.length === 0) return Object.keys(configShape);
  if (section === "tls" || (section === "connections" && sub === "tls")) return Object.keys(tlsShape);
  if (section === "store") return Object.keys(storeShape);
  if (section === "gateway") {
    if (keys[1] === "api_keys") return ["key", "connections"];
    if (keys[1] === "tls") return ["cert", "key"];
    return Object.keys(gatewayShape);
  }
  if (section === "connections") {
    const nested: Record<string, string[]> = {
      assertion: Object.keys(assertionShape),
      response: Object.keys(responseShape),
      header: ["name", "value"],
      api_retry: ["max", "on"],
    };
    return sub === undefined ? Object.keys(connectionShape) : (nested[sub] ?? []);
  }
  return [];
}

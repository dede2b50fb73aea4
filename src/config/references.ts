import { readFileSync } from "node:fs";
import { registerSecret } from "../redact.js";
import { configError, formatPath, type ConfigErrorOptions } from "./issues.js";
import { absolutePath } from "./paths.js";

/**
 * `${env:NAME}` and `${file:PATH}` references (SPEC §1), whole values or embedded in a
 * string; `$${` is a literal `${`. They are resolved per connection when it is first used, so
 * a job that uses one connection never needs another's secrets. Load only checks their syntax
 * (the "dry" resolver), so a typo in a reference still fails at load.
 */

type Part = { literal: string } | { env: string } | { file: string };

/** Environment variable names as shells accept them. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const REFERENCE_HINT = "references are ${env:NAME} and ${file:PATH}; write $${ for a literal ${";

/** Field names whose values are secrets: registered for redaction the moment they are resolved. */
const SECRET_KEYS = new Set(["client_secret", "password", "refresh_token", "private_key", "key", "old_keys", "subject_token", "actor_token"]);
/** Extra token parameters that carry credentials (e.g. Facebook's fb_exchange_token). */
const SECRET_PARAM = /token|secret|password|assertion|key|code/i;

/** True when a value contains a `${...}` reference (not counting `$${` escapes). */
export function hasReference(value: string): boolean {
  return /(^|[^$])\$\{/.test(value);
}

function parse(value: string, field: string, options: ConfigErrorOptions): Part[] {
  const parts: Part[] = [];
  let literal = "";
  let i = 0;
  while (i < value.length) {
    if (value.startsWith("$${", i)) {
      literal += "${";
      i += 3;
      continue;
    }
    if (!value.startsWith("${", i)) {
      literal += value[i++];
      continue;
    }
    const end = value.indexOf("}", i + 2);
    if (end < 0) throw configError(field, "unterminated ${ reference", { ...options, hint: REFERENCE_HINT });
    const body = value.slice(i + 2, end);
    const colon = body.indexOf(":");
    const kind = body.slice(0, Math.max(colon, 0));
    const arg = body.slice(colon + 1);
    if (literal) parts.push({ literal });
    literal = "";
    // The reference body is never echoed: a malformed one may be a pasted secret.
    if (kind === "env" && ENV_NAME.test(arg)) parts.push({ env: arg });
    else if (kind === "env") throw configError(field, "${env:...} needs a variable name (letters, digits, _)", { ...options, hint: REFERENCE_HINT });
    else if (kind === "file" && arg.trim()) parts.push({ file: arg.trim() });
    else if (kind === "file") throw configError(field, "${file:...} needs a path", { ...options, hint: REFERENCE_HINT });
    else throw configError(field, "unknown kind of reference", { ...options, hint: REFERENCE_HINT });
    i = end + 1;
  }
  if (literal || parts.length === 0) parts.push({ literal });
  return parts;
}

/**
 * What a config string's references read: the environment variables, and the files (absolute,
 * as the resolver would read them). For the CLI's token routes, which must see every input
 * of a connection's resolution; a malformed reference throws the load's error.
 */
export function referencedInputs(value: string, dir: string, env: NodeJS.ProcessEnv): { env: string[]; files: string[] } {
  const out = { env: [] as string[], files: [] as string[] };
  if (!hasReference(value)) return out;
  for (const part of parse(value, "", {})) {
    if ("env" in part) out.env.push(part.env);
    else if ("file" in part) out.files.push(absolutePath(part.file, dir, env));
  }
  return out;
}

/** Exactly one trailing newline is stripped: Kubernetes secret files and `echo > file` add one. */
function stripOneNewline(text: string): string {
  if (text.endsWith("\r\n")) return text.slice(0, -2);
  if (text.endsWith("\n")) return text.slice(0, -1);
  return text;
}

export interface ResolverOptions extends ConfigErrorOptions {
  /** Base folder for relative `${file:}` paths: the config file's folder. */
  dir: string;
  env: NodeJS.ProcessEnv;
}

/** Turns config strings into values. The dry resolver only checks syntax (used at load). */
export interface Resolver {
  readonly dry: boolean;
  /** The value with references resolved; secrets are registered for redaction. */
  string(value: string, field: string, secret?: boolean): string;
}

/** A resolver that reads the environment and files. */
export function createResolver(options: ResolverOptions): Resolver {
  const readFile = (path: string, field: string): string => {
    const absolute = absolutePath(path, options.dir, options.env);
    let text: string;
    try {
      text = readFileSync(absolute, "utf8");
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      const problem = code === "ENOENT" ? `file ${absolute} not found` : `cannot read file ${absolute} (${code ?? "error"})`;
      const hint = `relative \${file:} paths are resolved against the config file's folder (${options.dir}); ~ is your home`;
      throw configError(field, problem, { ...options, hint, cause });
    }
    const content = stripOneNewline(text);
    if (!content) throw configError(field, `file ${absolute} is empty`, options);
    return content;
  };
  return {
    dry: false,
    string(value, field, secret = false) {
      const out = parse(value, field, options)
        .map((part) => {
          if ("literal" in part) return part.literal;
          if ("file" in part) return readFile(part.file, field);
          const found = options.env[part.env];
          if (found === undefined) {
            throw configError(field, `environment variable ${part.env} is not set`, { ...options, hint: `set ${part.env}, or change the reference` });
          }
          if (found === "") throw configError(field, `environment variable ${part.env} is empty`, options);
          return found;
        })
        .join("");
      if (secret) registerSecret(out);
      return out;
    },
  };
}

/** A resolver that checks reference syntax and returns values unchanged (load-time checks). */
export function createDryResolver(options: ConfigErrorOptions = {}): Resolver {
  return {
    dry: true,
    string(value, field) {
      parse(value, field, options);
      return value;
    },
  };
}

/**
 * Resolves every reference except secrets', which are checked and kept as written: enough to
 * know which token state a connection has (its fingerprint) without reading any secret. Dry,
 * so later checks tolerate the references left in place.
 */
export function createSecretlessResolver(options: ResolverOptions): Resolver {
  const full = createResolver(options);
  const dry = createDryResolver(options);
  return {
    dry: true,
    string: (value, field, secret = false) => (secret ? dry.string(value, field) : full.string(value, field)),
  };
}

/** Credential-like token parameters shorter than this are flags ("true"), not secrets. */
const MIN_PARAM_SECRET_LENGTH = 16;

type Secrecy = "no" | "yes" | "param";

/** The private members of a JWK (RFC 7518 §6); `kty`, `crv`, `kid` are public and short. */
const JWK_PRIVATE = new Set(["d", "p", "q", "dp", "dq", "qi", "k", "oth"]);

function secrecyOf(parent: readonly PropertyKey[], key: string, inherited: Secrecy): Secrecy {
  const container = parent[parent.length - 1];
  if (container === "private_key") return JWK_PRIVATE.has(key) ? "yes" : "no";
  if (container === "response") return "no"; // JSONPath expressions named like token fields
  if (inherited !== "no") return inherited;
  if (SECRET_KEYS.has(key)) return "yes";
  return (container === "token_params" || container === "refresh_params") && SECRET_PARAM.test(key) ? "param" : "no";
}

/**
 * Every string inside `value` resolved, keeping its shape. Secret fields (client_secret,
 * password, refresh_token, private_key, keys, credential-like token parameters) and everything
 * under them are registered for redaction.
 */
export function resolveDeep<T>(value: T, path: readonly PropertyKey[], resolver: Resolver, secrecy: Secrecy = "no"): T {
  if (typeof value === "string") {
    const out = resolver.string(value, formatPath(path), secrecy === "yes");
    if (secrecy === "param" && !resolver.dry && out.length >= MIN_PARAM_SECRET_LENGTH) registerSecret(out);
    return out as T;
  }
  if (Array.isArray(value)) return value.map((item, i) => resolveDeep(item, [...path, i], resolver, secrecy)) as T;
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = resolveDeep(item, [...path, key], resolver, secrecyOf(path, key, secrecy));
    return out as T;
  }
  return value;
}

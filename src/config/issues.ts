import { TokenSmithError } from "../errors.js";
import { redact } from "../redact.js";

/**
 * Configuration errors all look alike (SPEC §1): `connections.billing.token_url: must be an
 * https URL (got "ftp://x")`, with the fix in `hint` and the field path in `field`. Values are
 * shown only for non-secret fields (URLs, durations, names), and even then redacted.
 */

export interface ConfigErrorOptions {
  hint?: string;
  connection?: string;
  /** The config file, named in the hint so a surprising lookup result is visible. */
  file?: string;
  cause?: unknown;
}

/** A `config_invalid` error about one field. */
export function configError(field: string, problem: string, options: ConfigErrorOptions = {}): TokenSmithError {
  const where = options.file ? `config file: ${options.file}` : undefined;
  const hint = options.hint && where ? `${options.hint} (${where})` : (options.hint ?? where);
  return new TokenSmithError("config_invalid", field ? `${field}: ${problem}` : problem, {
    field: field || undefined,
    hint,
    connection: options.connection,
    cause: options.cause,
  });
}

/** `["connections", "billing", "scopes", 0]` → `connections.billing.scopes[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out;
}

/** Longest URL shown back in a message. */
const MAX_SHOWN_URL = 120;

/** A user-written URL fit for an error message: credentials dropped, redacted, quoted. */
export function showUrl(value: string): string {
  let shown = value;
  try {
    const url = new URL(value);
    if (url.username || url.password) {
      url.username = "";
      url.password = "";
      shown = url.toString();
    }
  } catch {
    // not a URL: shown as written (redacted below)
  }
  shown = redact(shown);
  return JSON.stringify(shown.length > MAX_SHOWN_URL ? `${shown.slice(0, MAX_SHOWN_URL)}…` : shown);
}

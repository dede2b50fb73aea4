import { TokenSmithError } from "../errors.js";

/**
 * Durations in the config file (SPEC §1): a number of seconds, or a string with a unit
 * (`500ms`, `90s`, `5m`, `1h`). Everything inside tokensmith works in milliseconds.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/;
/** How to write a duration, for error hints. */
export const DURATION_HINT = "use seconds as a number, or a number with a unit: 500ms, 90s, 5m, 1h";

/** Longest value shown back in an error: durations are short, anything longer is not one. */
const MAX_SHOWN = 40;

function invalid(field: string, value: unknown): TokenSmithError {
  const shown = JSON.stringify(typeof value === "string" ? value.slice(0, MAX_SHOWN) : value);
  return new TokenSmithError("config_invalid", `${field}: not a duration (got ${shown})`, { field, hint: DURATION_HINT });
}

/** Milliseconds for a duration value, or undefined when it is not one (schema checks). */
export function tryParseDuration(value: unknown): number | undefined {
  if (typeof value === "number") {
    return Number.isFinite(value) && value >= 0 ? Math.round(value * UNIT_MS.s) : undefined;
  }
  if (typeof value !== "string") return undefined;
  const match = DURATION.exec(value.trim());
  return match ? Math.round(Number(match[1]) * UNIT_MS[match[2] ?? "s"]) : undefined;
}

/** Milliseconds for a duration value, or a `config_invalid` error naming `field`. */
export function parseDuration(value: unknown, field = "duration"): number {
  const ms = tryParseDuration(value);
  if (ms === undefined) throw invalid(field, value);
  return ms;
}

/** The text of a duration error, without the field: "not a duration (got "5 minutes")". */
export function durationProblem(value: unknown): string {
  return invalid("", value).message.replace(/^: /, "");
}

/** `default_ttl`: a duration, or `never` (the token is used until an API answers 401). */
export function parseTtl(value: unknown, field = "default_ttl"): number | "never" {
  if (value === "never") return "never";
  try {
    return parseDuration(value, field);
  } catch (err) {
    throw (err as TokenSmithError).withHint(`${DURATION_HINT}, or never`);
  }
}

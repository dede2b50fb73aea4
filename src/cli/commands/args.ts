import { TokenSmithError } from "../../errors.js";

/** A non-negative number of seconds from a flag, or a usage error naming the flag. */
export function parseSeconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) {
    throw new TokenSmithError("usage_error", `${flag} must be a number of seconds (got "${value}")`, { hint: `e.g. ${flag} 300` });
  }
  return n;
}

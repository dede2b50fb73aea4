import { TokenSmithError } from "../errors.js";
import type { TokenState } from "./state.js";

/** Options of `accessToken()`, `token()` and `headers()`. */
export interface TokenOptions {
  /** The token must stay valid at least this many seconds (`--min-ttl`). */
  minTtl?: number;
  /** Ask the server for a new token even if the cached one is valid. */
  forceRefresh?: boolean;
  signal?: AbortSignal;
}

/** A token with what callers need to know about it (what `tokensmith token --json` prints). */
export interface TokenInfo {
  accessToken: string;
  tokenType: string;
  /** null when the token has no expiry. */
  expiresAt: Date | null;
  /** Space-separated; the requested scopes when the server said none. */
  scope: string;
  /** The response's other non-secret fields (e.g. Salesforce `instance_url`). */
  extra: Record<string, unknown>;
}

/** @internal The public view of a token state. */
export function toTokenInfo(state: TokenState): TokenInfo {
  if (!state.accessToken) {
    throw new TokenSmithError("unexpected", "no access token in a state handed out");
  }
  return {
    accessToken: state.accessToken,
    tokenType: state.tokenType ?? "Bearer",
    expiresAt: state.expiresAt === null || state.expiresAt === undefined ? null : new Date(state.expiresAt),
    scope: state.scope ?? "",
    extra: { ...(state.extra ?? {}) },
  };
}

import type { TokenInfo } from "./connection.js";

/** The SPEC §3 `token --json` document, also the gateway's `GET /v1/connections/NAME/token`. */
export interface TokenJson {
  connection: string;
  access_token: string;
  token_type: string;
  /** Integer epoch seconds; null when the token has no expiry. */
  expires_at: number | null;
  /** Integer seconds from `now`, never negative; null when the token has no expiry. */
  expires_in: number | null;
  scope: string;
  extra: Record<string, unknown>;
}

const MS_PER_S = 1000;

/** The one builder of the token document: the CLI and the gateway print the same fields with the same rounding. */
export function tokenJson(connection: string, info: TokenInfo, now: number): TokenJson {
  return {
    connection,
    access_token: info.accessToken,
    token_type: info.tokenType,
    expires_at: info.expiresAt ? Math.floor(info.expiresAt.getTime() / MS_PER_S) : null,
    expires_in: info.expiresAt ? Math.max(0, Math.floor((info.expiresAt.getTime() - now) / MS_PER_S)) : null,
    scope: info.scope,
    extra: info.extra,
  };
}

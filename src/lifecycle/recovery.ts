import { GRANT_TABLE } from "../config/grants.js";
import { TokenSmithError } from "../errors.js";
import type { GrantRequest, TokenSet } from "../protocol/types.js";
import type { GrantPolicy } from "./decide.js";
import { live, type TokenState } from "./state.js";

type Send = (grant: GrantRequest) => Promise<{ tokens: TokenSet; sentAt: number }>;

/**
 * A token request with its recoveries: stale-read recovery (§2.6: the refresh token was refused
 * but another process has stored a newer one) and the fallback of non-interactive grants, whose
 * refresh token is only a shortcut (§2.18). Returns the answer and the grant that got it.
 */
export async function requestWithRecovery(
  grant: GrantRequest,
  send: Send,
  readStored: () => Promise<TokenState | undefined>,
  policy: Pick<GrantPolicy, "grant" | "grantType">,
): Promise<{ tokens: TokenSet; sentAt: number; grant: GrantRequest }> {
  const attempt = async (g: GrantRequest) => ({ ...(await send(g)), grant: g });
  try {
    return await attempt(grant);
  } catch (err) {
    if (!(err instanceof TokenSmithError) || err.error !== "invalid_grant" || grant.kind !== "refresh_token") throw err;
    const stored = live(await readStored());
    if (stored?.refreshToken && stored.refreshToken !== grant.refreshToken) {
      return attempt({ kind: "refresh_token", refreshToken: stored.refreshToken });
    }
    // A non-interactive grant's refresh token is only a shortcut: run the grant itself (§2.18).
    if (policy.grantType) return attempt({ kind: "custom" });
    const own = GRANT_TABLE[policy.grant].own;
    if (own) return attempt({ kind: own });
    throw err;
  }
}

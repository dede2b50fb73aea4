import { GRANT_TABLE } from "../config/grants.js";
import { isTransient, TokenSmithError } from "../errors.js";
import type { GrantRequest, TokenSet } from "../protocol/types.js";
import type { GrantPolicy } from "./decide.js";
import { live, type TokenState } from "./state.js";

type Send = (grant: GrantRequest) => Promise<{ tokens: TokenSet; sentAt: number }>;

/** An OAuth refusal; a 5xx or 429 is transient even with an OAuth error body: retried, not fallen back from. */
function refused(err: unknown): err is TokenSmithError {
  return err instanceof TokenSmithError && err.code === "oauth_error" && !isTransient(err);
}

/**
 * A token request with its recoveries: stale-read recovery (§2.6: the refresh token was refused
 * with `invalid_grant` but another process has stored a newer one) and the fallback of
 * non-interactive grants (§2.18), whose refresh token is only a shortcut, so any OAuth error on
 * a refresh drops it and runs the grant itself. Returns the answer and the grant that got it.
 */
export async function requestWithRecovery(
  grant: GrantRequest,
  send: Send,
  readStored: () => Promise<TokenState | undefined>,
  policy: Pick<GrantPolicy, "grant" | "grantType">,
): Promise<{ tokens: TokenSet; sentAt: number; grant: GrantRequest }> {
  const attempt = async (g: GrantRequest) => ({ ...(await send(g)), grant: g });
  const { interactive, own } = GRANT_TABLE[policy.grant];
  try {
    return await attempt(grant);
  } catch (err) {
    if (!refused(err) || grant.kind !== "refresh_token") throw err;
    const stored = err.error === "invalid_grant" ? live(await readStored())?.refreshToken : undefined;
    if (stored && stored !== grant.refreshToken) {
      const retried = await attempt({ kind: "refresh_token", refreshToken: stored }).catch((again: unknown) => {
        if (interactive || !refused(again)) throw again;
      });
      if (retried) return retried;
    }
    if (interactive) throw err;
    if (policy.grantType) return attempt({ kind: "custom" });
    if (own) return attempt({ kind: own });
    throw err;
  }
}

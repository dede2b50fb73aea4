import { isUserGrant } from "../config/types.js";
import { TokenSmithError } from "../errors.js";
import type { GrantRequest } from "../protocol/types.js";
import { hashSecret, redact, redactMessage } from "../redact.js";
import type { ConnectionContext } from "./manager.js";
import { OAUTH_ERROR_BACKOFF_MS } from "./retry.js";
import type { RememberedError, TokenState } from "./state.js";

/** Which token request to make for a state, and the state to build the result on. */
export interface GrantPlan {
  grant: GrantRequest;
  /** The state the answer is merged into (a newly adopted seed is already in it). */
  base: TokenState;
}

/** True when a configured seed refresh token has not been used yet (§2.9). */
export function hasNewSeed(ctx: ConnectionContext, state: TokenState): boolean {
  return !!ctx.seedRefreshToken && !(state.seeds ?? []).includes(hashSecret(ctx.seedRefreshToken));
}

/**
 * Decide the grant (§2.9): a new seed is adopted even over an existing state (the operator's
 * recovery path); a used seed is never sent again; user grants without a refresh token need
 * a login.
 */
export function planGrant(ctx: ConnectionContext, state: TokenState): GrantPlan {
  let base = state;
  if (hasNewSeed(ctx, state) && (isUserGrant(ctx.grant) || ctx.grant === "password")) {
    const { reauth: _reauth, lastError: _lastError, ...rest } = state;
    base = { ...rest, refreshToken: ctx.seedRefreshToken, seeds: [...(state.seeds ?? []), hashSecret(ctx.seedRefreshToken!)] };
  }
  if (ctx.grantType) return { grant: { kind: "custom" }, base };
  if (base.refreshToken && (isUserGrant(ctx.grant) || ctx.grant === "password")) {
    return { grant: { kind: "refresh_token", refreshToken: base.refreshToken }, base };
  }
  switch (ctx.grant) {
    case "client_credentials":
    case "password":
    case "jwt_bearer":
      return { grant: { kind: ctx.grant }, base };
    default:
      throw new TokenSmithError("reauthorization_required", `connection "${ctx.name}" has no tokens yet: a login is needed`, {
        connection: ctx.name,
        hint: `run \`${ctx.loginCommand}\`, or configure a seed \`refresh_token\``,
      });
  }
}

/** Remember an OAuth error for a short backoff (§2.7); stored and shown by `status`, so redacted as it is printed. */
export function remember(err: TokenSmithError, now: number): RememberedError {
  return {
    code: err.code,
    message: redactMessage(err.message),
    hint: err.hint === undefined ? undefined : redactMessage(err.hint),
    status: err.status,
    error: err.error === undefined ? undefined : redact(err.error),
    errorDescription: err.errorDescription === undefined ? undefined : redact(err.errorDescription),
    errorUri: err.errorUri === undefined ? undefined : redact(err.errorUri),
    at: now,
    until: now + OAUTH_ERROR_BACKOFF_MS,
  };
}

/**
 * `reauthorization_required` (§2.7), naming `tokensmith login`. `afterTimeout`: an earlier
 * attempt with the same refresh token timed out, so the server may have rotated it then and
 * now refuses the old one as reused.
 */
export function reauthorizationError(
  ctx: Pick<ConnectionContext, "name" | "grant" | "loginCommand">,
  reauth: { error?: string; description?: string; afterTimeout?: boolean; status?: number },
  cause?: unknown,
): TokenSmithError {
  const why = reauth.afterTimeout
    ? "; an earlier refresh with it timed out, so the server probably rotated it then and now treats it as reused"
    : "";
  const connection = ctx.name;
  const seed = ctx.grant === "refresh_token" ? ", configure a new seed `refresh_token`," : "";
  return new TokenSmithError("reauthorization_required", `connection "${connection}" needs a new login: its refresh token was refused (${reauth.error ?? "invalid_grant"})${why}`, {
    connection,
    error: reauth.error,
    errorDescription: reauth.description,
    status: reauth.status,
    hint: `run \`${ctx.loginCommand}\`${seed} (or \`tokensmith token ${connection} --force-refresh\` after an admin fix)`,
    cause,
  });
}

/** Throw the dead end or remembered error a state is in, without asking the server again. */
export function checkRemembered(state: TokenState, now: number, ctx: Pick<ConnectionContext, "name" | "grant" | "loginCommand">): void {
  const connection = ctx.name;
  if (state.reauth) throw reauthorizationError(ctx, state.reauth);
  const last = state.lastError;
  if (last && last.until > now) {
    const seconds = Math.ceil((last.until - now) / 1000);
    throw new TokenSmithError("oauth_error", last.message, {
      connection,
      status: last.status,
      error: last.error,
      errorDescription: last.errorDescription,
      errorUri: last.errorUri,
      hint: `${last.hint ? `${last.hint}; ` : ""}the server is not asked again for ${seconds} s (use --force-refresh to retry now)`,
    });
  }
}

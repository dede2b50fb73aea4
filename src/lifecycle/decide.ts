import { GRANT_TABLE, isUserGrant, type GrantName } from "../config/grants.js";
import { TokenSmithError } from "../errors.js";
import type { GrantRequest } from "../protocol/types.js";
import { hashSecret } from "../redact.js";
import { formatRelative, REMOVED_WORDS } from "./health.js";
import { isDue, isUsable, live, otherCredentials, type TokenState, type Want } from "./state.js";
import { baseOf, transition, type StateEvent } from "./transitions.js";

/**
 * The lifecycle's whole policy as one pure function (golang/oauth2's `if t.Valid() { return t }`,
 * grown to SPEC §2): given a state, the time and what the caller wants, serve the token, make
 * a token request (which grant, built on which state), or refuse. No store, no clock, no network:
 * test/lifecycle/decide.test.ts has one row per guarantee.
 */

/** What `decide` needs to know of the connection. */
export interface GrantPolicy {
  name: string;
  grant: GrantName;
  /** A custom `grant_type` (e.g. fb_exchange_token): always requested as is. */
  grantType?: string;
  /** A configured seed refresh token (§2.9). */
  seedRefreshToken?: string;
  refreshMarginMs?: number;
  /** The command that logs this connection in, for hints. */
  loginCommand: string;
  /** A hash of the client credentials in use (`credentialsHash`): keys a remembered client error. */
  credentialsHash?: string;
}

/** OAuth errors about the client itself: remembered only for the credentials that got them. */
const CLIENT_ERRORS = new Set(["invalid_client", "unauthorized_client"]);

/** What the caller wants beyond a usable token. */
export interface Wanted extends Want {
  /** Ask the server now, whatever is cached or remembered (`--force-refresh`). */
  forceRefresh?: boolean;
  /** A background refresh inside the margin (§2.3): request when due, even if still usable. */
  ahead?: boolean;
}

export type Verdict =
  | { kind: "serve"; state: TokenState; refreshAhead: boolean }
  | { kind: "request"; grant: GrantRequest; base: TokenState }
  | { kind: "refuse"; error: TokenSmithError };

export function decide(state: TokenState | undefined, now: number, want: Wanted, policy: GrantPolicy): Verdict {
  const current = live(state);
  if (!want.forceRefresh && current && isUsable(current, now, want)) {
    const due = isDue(current, now, policy.refreshMarginMs);
    if (!want.ahead || !due) return { kind: "serve", state: current, refreshAhead: due };
  }
  let base = baseOf(state);
  const seeded = hasNewSeed(policy, base);
  if (!want.forceRefresh && !seeded) {
    const error = rememberedError(base, now, policy);
    if (error) return { kind: "refuse", error };
  }
  // A new seed is adopted even over an existing state: the operator's recovery path (§2.9).
  if (seeded && refreshable(policy.grant)) base = transition(base, { type: "seed_adopted", seed: policy.seedRefreshToken! }, now);
  if (policy.grantType) return { kind: "request", grant: { kind: "custom" }, base };
  if (base.refreshToken && refreshable(policy.grant)) return { kind: "request", grant: { kind: "refresh_token", refreshToken: base.refreshToken }, base };
  const own = GRANT_TABLE[policy.grant].own;
  if (own) return { kind: "request", grant: { kind: own }, base };
  return {
    kind: "refuse",
    error: new TokenSmithError("reauthorization_required", `connection "${policy.name}" ${gone(state, now)}: a login is needed`, {
      connection: policy.name,
      hint: `run \`${policy.loginCommand}\`, or configure a seed \`refresh_token\``,
    }),
  };
}

/** "has no tokens yet" only when there never were any; else which removal, and when (logout, revoke, export). */
function gone(state: TokenState | undefined, now: number): string {
  const removed = state?.tombstone;
  if (removed) return `was ${REMOVED_WORDS[removed.reason]} ${formatRelative(removed.at, now)}`;
  if (state?.tokenRequests || state?.lastRefreshAt || state?.accessToken) return "has no usable token and no refresh token";
  return "has no tokens yet";
}

/**
 * What a failed token request does to the state (§2.7), or undefined when it changes nothing
 * (a transient failure is retried; an answer that is not OAuth is not remembered).
 */
export function failureEvent(err: unknown, grant: GrantRequest, policy: Pick<GrantPolicy, "grant" | "credentialsHash">, requests: number, afterTimeout: boolean): Extract<StateEvent, { type: "refresh_refused" | "error_remembered" }> | undefined {
  if (!(err instanceof TokenSmithError) || err.code !== "oauth_error") return undefined;
  if (err.error === "invalid_grant" && grant.kind === "refresh_token" && isUserGrant(policy.grant)) {
    return { type: "refresh_refused", error: err, afterTimeout, requests };
  }
  const credentials = err.error && CLIENT_ERRORS.has(err.error) ? policy.credentialsHash : undefined;
  return { type: "error_remembered", error: err, requests, ...(credentials ? { credentials } : {}) };
}


/** The error a failed token request ends with: a refused refresh of a user grant needs a login (§2.7). */
export function failureError(policy: Pick<GrantPolicy, "name" | "grant" | "loginCommand">, err: unknown, afterTimeout?: boolean): unknown {
  if (err instanceof TokenSmithError && err.code === "oauth_error" && err.error === "invalid_grant" && isUserGrant(policy.grant)) {
    return reauthorizationError(policy, { error: err.error, description: err.errorDescription, afterTimeout, status: err.status }, err);
  }
  return err instanceof TokenSmithError ? err.withConnection(policy.name) : err;
}

/** Grants whose refresh token is used to renew (user grants, and password's optional one). */
function refreshable(grant: GrantName): boolean {
  return GRANT_TABLE[grant].refreshable;
}

/** True when a configured seed refresh token has not been used yet (§2.9). */
export function hasNewSeed(policy: Pick<GrantPolicy, "seedRefreshToken">, state: TokenState): boolean {
  return !!policy.seedRefreshToken && !(state.seeds ?? []).includes(hashSecret(policy.seedRefreshToken));
}

/**
 * `reauthorization_required` (§2.7), naming `tokensmith login`. `afterTimeout`: an earlier
 * attempt with the same refresh token timed out, so the server may have rotated it then and
 * now refuses the old one as reused.
 */
export function reauthorizationError(
  policy: Pick<GrantPolicy, "name" | "grant" | "loginCommand">,
  reauth: { error?: string; description?: string; afterTimeout?: boolean; status?: number },
  cause?: unknown,
): TokenSmithError {
  const why = reauth.afterTimeout ? "; an earlier refresh with it timed out, so the server probably rotated it then and now treats it as reused" : "";
  const connection = policy.name;
  const seed = policy.grant === "refresh_token" ? ", configure a new seed `refresh_token`," : "";
  return new TokenSmithError("reauthorization_required", `connection "${connection}" needs a new login: its refresh token was refused (${reauth.error ?? "invalid_grant"})${why}`, {
    connection,
    error: reauth.error,
    errorDescription: reauth.description,
    status: reauth.status,
    hint: `run \`${policy.loginCommand}\`${seed} (or \`tokensmith token ${connection} --force-refresh\` after an admin fix)`,
    cause,
  });
}

/** The dead end or remembered error a state is in, if any: the server is not asked again. */
export function rememberedError(state: TokenState, now: number, policy: Pick<GrantPolicy, "name" | "grant" | "loginCommand" | "credentialsHash">): TokenSmithError | undefined {
  if (state.reauth) return reauthorizationError(policy, state.reauth);
  const last = state.lastError;
  if (!last || last.until <= now || otherCredentials(last, policy)) return undefined;
  const seconds = Math.ceil((last.until - now) / 1000);
  return new TokenSmithError("oauth_error", last.message, {
    connection: policy.name,
    status: last.status,
    error: last.error,
    errorDescription: last.errorDescription,
    errorUri: last.errorUri,
    hint: `${last.hint ? `${last.hint}; ` : ""}the server is not asked again for ${seconds} s (to ask now: \`tokensmith test ${policy.name} --force-refresh\`)`,
  });
}

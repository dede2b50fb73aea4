import { GRANT_TABLE } from "../config/grants.js";
import { protocolClientWith } from "../config/protocol-client.js";
import { isTransient, TokenSmithError } from "../errors.js";
import { revokeToken } from "../protocol/revoke.js";
import { hashSecret } from "../redact.js";
import type { Lease } from "../store/types.js";
import type { ConnectionHandle } from "./handle.js";
import { timeoutWithin } from "./manager.js";
import { hasNewSeed } from "./decide.js";
import { live, type TokenState } from "./state.js";
import { transition } from "./transitions.js";

export interface RevokeOptions {
  /** Revoke only the refresh token, or only the access token. Default: refresh, then access. */
  only?: "refresh_token" | "access_token";
  /** Drop the local state even when the server cannot be reached. */
  force?: boolean;
}

export interface RevokeResult {
  revoked: Array<"refresh_token" | "access_token">;
  /** Non-fatal notes, e.g. the server does not support revoking access tokens. */
  warnings: string[];
  /** True when the local state was dropped. */
  dropped: boolean;
}

/**
 * How long a status waits to learn whether a connection that discovers its endpoints can
 * revoke: the dashboard's listing must not hang on an unreachable issuer. The discovery goes
 * on and is kept, so the next listing knows.
 */
const REVOCABLE_WAIT_MS = 2_000;

/**
 * Whether `revoke` has an endpoint to call (configured, from the preset, or discovered), from
 * the same endpoints `revokeConnection` uses: the dashboard shows Revoke only then. Not known
 * (settings that don't resolve, discovery failing or slow) is false.
 * @internal
 */
export async function canRevoke(connection: ConnectionHandle): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), REVOCABLE_WAIT_MS);
    timer.unref();
  });
  const known = connection
    .setup()
    .then((setup) => setup.endpoints())
    .then((endpoints) => !!endpoints.revocationUrl);
  try {
    return await Promise.race([known, late]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** The server could not be reached or is failing (exit 4): the failures `--force` overrides. */
function unavailable(err: unknown): boolean {
  return err instanceof TokenSmithError && (err.code === "invalid_response" || isTransient(err));
}

/**
 * RFC 7009 revocation (SPEC §3 `revoke`): the refresh token first (revoking it usually
 * revokes the whole grant), then the access token; `unsupported_token_type` is a warning.
 * It runs inside the store's update (§2.16), so no refresh can rotate the refresh token
 * between its revocation and the tombstone. The local state is dropped only when the server
 * answered, or with `force` when it could not be reached. A configured seed refresh token
 * that was never used is what gets revoked when nothing is stored, and counts as used.
 * @internal
 */
export async function revokeConnection(connection: ConnectionHandle, options: RevokeOptions): Promise<RevokeResult> {
  const setup = await connection.setup();
  connection.runtime.used(connection.name);
  const endpoints = await setup.endpoints();
  if (!endpoints.revocationUrl) {
    throw new TokenSmithError("not_supported", `connection "${connection.name}" has no revocation endpoint`, {
      connection: connection.name,
      field: `connections.${connection.name}.revocation_url`,
      hint: `use \`tokensmith logout ${connection.name}\` to drop the local state, or set revocation_url`,
    });
  }
  const result: RevokeResult = { revoked: [], warnings: [], dropped: false };
  const order: Array<"refresh_token" | "access_token"> = options.only ? [options.only] : ["refresh_token", "access_token"];
  // client_auth: auto — the method found for the token endpoint (revocation takes the same client authentication).
  const client = protocolClientWith(setup.conn, endpoints.tokenUrl ? await setup.authChoice?.remembered(endpoints.tokenUrl) : undefined);
  const revokeAll = async (state: TokenState | undefined, seed: string | undefined, lease: Lease) => {
    for (const hint of order) {
      const token = hint === "refresh_token" ? (state?.refreshToken ?? seed) : state?.accessToken;
      if (!token) continue;
      const what = hint.replace("_", " ");
      let answer;
      try {
        answer = await revokeToken(client, endpoints, { token, tokenTypeHint: hint }, {
          fetch: setup.fetch,
          now: () => setup.clock.now(),
          timeoutMs: timeoutWithin(lease, setup.conn.timeoutMs),
          signal: lease.signal,
        });
      } catch (err) {
        // RFC 7009 §2.2 wants 200 for a token that is already invalid; some servers (Google)
        // answer invalid_token, e.g. for the access token of a grant whose refresh token just went.
        if (err instanceof TokenSmithError && err.code === "oauth_error" && err.error === "invalid_token") {
          result.warnings.push(`the server says the ${what} is already invalid (invalid_token)`);
          continue;
        }
        // With the refresh token revoked the login is dead at the server: keeping it here helps nobody.
        if (hint === "access_token" && result.revoked.includes("refresh_token")) {
          const why = err instanceof TokenSmithError ? (err.error ?? err.code) : "error";
          result.warnings.push(`the access token could not be revoked (${why}); it stays valid until it expires`);
          continue;
        }
        throw err;
      }
      if (answer.outcome === "unsupported_token_type") {
        result.warnings.push(`the server does not revoke ${what}s (unsupported_token_type)`);
      } else {
        result.revoked.push(hint);
      }
    }
  };
  const seeded = GRANT_TABLE[setup.ctx.grant].refreshable;
  await setup.manager.write(setup.ctx, async (current, lease) => {
    const state = live(current);
    // A never-used seed is the login to revoke when nothing is stored; `--access-token` leaves it alone.
    const unused =
      order.includes("refresh_token") && !state?.refreshToken && seeded && hasNewSeed(setup.ctx, current ?? { v: 1 }) ? setup.ctx.seedRefreshToken : undefined;
    try {
      await revokeAll(state, unused, lease);
    } catch (err) {
      if (!(unavailable(err) && options.force)) {
        throw err instanceof TokenSmithError
          ? err.withConnection(connection.name).withHint(
              unavailable(err) ? "the local state was kept; retry later, or use --force to drop it anyway" : (err.hint ?? ""),
            )
          : err;
      }
      result.warnings.push(`the revocation failed (${(err as TokenSmithError).message}); the local state was dropped anyway (--force)`);
    }
    const by = { connection: connection.name, process: setup.holder };
    return transition(current, { type: "removed", reason: "revoked", usedSeeds: unused ? [hashSecret(unused)] : [], by }, setup.clock.now());
  });
  result.dropped = true;
  return result;
}

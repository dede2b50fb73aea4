import { TokenSmithError } from "../errors.js";
import { revokeToken } from "../protocol/revoke.js";
import type { Connection } from "./connection.js";
import { live } from "./state.js";

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
 * RFC 7009 revocation (SPEC §3 `revoke`): the refresh token first (revoking it usually
 * revokes the whole grant), then the access token; `unsupported_token_type` is a warning.
 * The local state is dropped only when the server was reached, or with `force`.
 */
export async function revokeConnection(connection: Connection, options: RevokeOptions): Promise<RevokeResult> {
  const setup = await connection.setup();
  const endpoints = await setup.endpoints();
  if (!endpoints.revocationUrl) {
    throw new TokenSmithError("not_supported", `connection "${connection.name}" has no revocation endpoint`, {
      connection: connection.name,
      field: `connections.${connection.name}.revocation_url`,
      hint: `use \`tokensmith logout ${connection.name}\` to drop the local state, or set revocation_url`,
    });
  }
  const state = live(await setup.manager.reload(setup.ctx));
  const result: RevokeResult = { revoked: [], warnings: [], dropped: false };
  const order: Array<"refresh_token" | "access_token"> = options.only ? [options.only] : ["refresh_token", "access_token"];
  try {
    for (const hint of order) {
      const token = hint === "refresh_token" ? state?.refreshToken : state?.accessToken;
      if (!token) continue;
      const answer = await revokeToken(setup.conn, endpoints, { token, tokenTypeHint: hint }, {
        fetch: setup.fetch,
        now: () => Date.now(),
        timeoutMs: setup.conn.timeoutMs,
      });
      if (answer.outcome === "unsupported_token_type") {
        result.warnings.push(`the server does not revoke ${hint.replace("_", " ")}s (unsupported_token_type)`);
      } else {
        result.revoked.push(hint);
      }
    }
  } catch (err) {
    const unreachable = err instanceof TokenSmithError && (err.code === "network_error" || err.code === "timeout");
    if (!(unreachable && options.force)) {
      throw err instanceof TokenSmithError
        ? err.withConnection(connection.name).withHint(
            unreachable ? "the local state was kept; retry later, or use --force to drop it anyway" : (err.hint ?? ""),
          )
        : err;
    }
    result.warnings.push("the server could not be reached; the local state was dropped anyway (--force)");
  }
  await connection.tombstone("revoked");
  result.dropped = true;
  return result;
}

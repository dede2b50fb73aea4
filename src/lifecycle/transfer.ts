import { TokenSmithError, toTokenSmithError } from "../errors.js";
import { bundleSealer, checkPassphrase, checkPassphraseStrength, openBundle, parseBundle } from "./bundle.js";
import type { ConnectionHandle } from "./handle.js";
import { live, type TokenState } from "./state.js";
import { portable, transition } from "./transitions.js";

/**
 * Moving a login to another machine (`tokensmith export` / `import`). Export is a move: in one
 * store update it reads the state and leaves a tombstone "moved" (§2.16), because two holders
 * of one rotating refresh token revoke each other at the first refresh. Import writes the
 * state under the target's lease, as a new generation of the target's record.
 */

export interface ExportOptions {
  /** Encrypts the bundle; an import needs the same one. */
  passphrase: string;
  /** Keep the local state too (a warning says why that is risky with rotating refresh tokens). */
  copy?: boolean;
  /**
   * Accept a passphrase shorter than 12 characters. Off by default: the bundle holds a
   * refresh token, and a short passphrase is guessed offline despite scrypt.
   */
  weakPassphrase?: boolean;
  /** scrypt cost N (power of two); default 2^17. Only tests have a reason to lower it. */
  scryptN?: number;
}

export interface ImportOptions {
  passphrase: string;
}

/** What an import did, for the CLI's confirmation; nothing secret. */
export interface ImportResult {
  connection: string;
  /** The connection's name on the machine that exported it. */
  from: string;
  /** True when a live login of the target was replaced. */
  replaced: boolean;
  hasRefreshToken: boolean;
  /** Expiry of the imported access token; null when none was imported or it never expires. */
  expiresAt: Date | null;
}

/** What travels inside the bundle. */
interface Payload {
  state: TokenState;
  exportedAt: number;
}

/** @internal Seals the connection's token state into a bundle; tombstones the source unless `copy`. */
export async function exportState(connection: ConnectionHandle, options: ExportOptions): Promise<string> {
  try {
    checkPassphrase(options.passphrase);
    checkPassphraseStrength(options.passphrase, { allowWeak: options.weakPassphrase, override: "weakPassphrase: true" });
    const { manager, ctx, fingerprint, clock, warn, holder } = await connection.stateSetup();
    if (ctx.cache === "none") throw nothingStored(connection.name);
    const seal = await bundleSealer({ passphrase: options.passphrase, fingerprint, connection: connection.name, scryptN: options.scryptN });
    let bundle: string | undefined;
    let tombstone: TokenState["tombstone"];
    await manager.write(ctx, (current) => {
      const state = live(current);
      if (!state?.refreshToken && !state?.accessToken) {
        tombstone = current?.tombstone;
        return undefined;
      }
      // Sealed before the tombstone is returned: if sealing fails, nothing is written.
      const payload: Payload = { state: portable(state), exportedAt: clock.now() };
      bundle = `${JSON.stringify(seal(payload), null, 2)}\n`;
      if (options.copy) return undefined;
      return transition(current, { type: "removed", reason: "moved", by: { connection: connection.name, process: holder } }, clock.now());
    });
    if (bundle === undefined) throw nothingToExport(connection.name, tombstone);
    if (options.copy) {
      warn(
        `connection "${connection.name}" was copied, not moved: this machine keeps its login. With a rotating refresh token, the first of the two machines to refresh makes the other's refresh token invalid (and a server with reuse detection revokes both); run \`tokensmith logout ${connection.name}\` here once the import is done`,
      );
    }
    return bundle;
  } catch (err) {
    throw toTokenSmithError(err, connection.name);
  }
}

/**
 * Takes over the login in `bundle` as connection `name`'s token state. The bundle must be for
 * the same token state (same token URL, client, grant and identity); the target keeps the seeds it has used, and
 * its configured seed counts as used, so the next refresh does not replace the import (§2.9).
 * @internal
 */
export async function importState(
  connectionNamed: () => ConnectionHandle,
  name: string,
  bundle: string | object,
  options: ImportOptions,
): Promise<ImportResult> {
  try {
    checkPassphrase(options.passphrase);
    const parsed = parseBundle(bundle);
    const connection = connectionNamed();
    const { manager, ctx, fingerprint, clock, warn } = await connection.setup();
    if (parsed.fingerprint !== fingerprint) throw mismatch(parsed.connection, name);
    if (ctx.cache === "none") throw nothingStored(name);
    const { state } = await openBundle<Payload>(parsed, options.passphrase);
    if (!state || state.v !== 1 || (!state.refreshToken && !state.accessToken)) {
      throw new TokenSmithError("usage_error", `the bundle of "${parsed.connection}" holds no token state`, { hint: "export it again with `tokensmith export`" });
    }
    let replaced = false;
    await manager.write(ctx, (current) => {
      const mine = live(current);
      replaced = !!(mine?.refreshToken || mine?.accessToken);
      return transition(current, { type: "imported", state, seedRefreshToken: ctx.seedRefreshToken }, clock.now());
    });
    if (replaced) warn(`connection "${name}": the imported login replaced the one this machine had`);
    return {
      connection: name,
      from: parsed.connection,
      replaced,
      hasRefreshToken: !!state.refreshToken,
      expiresAt: state.accessToken && typeof state.expiresAt === "number" ? new Date(state.expiresAt) : null,
    };
  } catch (err) {
    throw toTokenSmithError(err, name);
  }
}

function nothingToExport(name: string, tombstone: TokenState["tombstone"]): TokenSmithError {
  const why = tombstone ? ` (${tombstone.reason} at ${new Date(tombstone.at).toISOString()})` : "";
  return new TokenSmithError("usage_error", `connection "${name}" has no token state to export${why}`, {
    connection: name,
    hint:
      tombstone?.reason === "moved"
        ? `it was already exported; import that bundle on the other machine, or log in here again`
        : `get a login first: \`tokensmith login ${name}\` (or \`tokensmith token ${name}\` for non-interactive grants)`,
  });
}

function nothingStored(name: string): TokenSmithError {
  return new TokenSmithError("usage_error", `connection "${name}" has cache: none, so it keeps no token state to move`, {
    connection: name,
    field: `connections.${name}.cache`,
  });
}

function mismatch(from: string, to: string): TokenSmithError {
  return new TokenSmithError("config_invalid", `the bundle of connection "${from}" is for another token state than connection "${to}" here`, {
    connection: to,
    field: `connections.${to}`,
    hint: `"${to}" must have the same token URL, client_id, grant family, identity (account, username or assertion sub), scopes, audience, resource and token_params as "${from}" had where it was exported`,
  });
}

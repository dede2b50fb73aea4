import { TokenSmithError, toTokenSmithError } from "../errors.js";
import type { LoginOptions, LoginResult } from "../flows/login.js";
import { authorizedFetch, type AuthorizedInit } from "../http/fetch.js";
import { paginate, type PaginateOptions } from "../http/paginate.js";
import { hashSecret } from "../redact.js";
import { diagnose, type Diagnosis } from "./diagnose.js";
import type { ConnectionContext, TokenManager } from "./manager.js";
import { revokeConnection, type RevokeOptions, type RevokeResult } from "./revoke.js";
import type { ConnectionSetup, Runtime } from "./runtime.js";
import { lifetimeOf, live, type TokenState } from "./state.js";
import { transition } from "./transitions.js";
import { connectionStatus, type ConnectionStatus } from "./status.js";
import { usableUntil } from "./timing.js";
import { exportState, type ExportOptions } from "./transfer.js";

/** Options of `accessToken()` and `token()` (SPEC §4). */
export interface TokenOptions {
  /** The token must stay valid at least this many seconds (`--min-ttl`). */
  minTtl?: number;
  /** Ask the server for a new token even if the cached one is valid. */
  forceRefresh?: boolean;
  signal?: AbortSignal;
}

/** A token with what callers need to know about it (`token --json`, SPEC §3). */
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

/**
 * A named connection: its settings and the token state it shares with every connection of the
 * same fingerprint. Everything the CLI and the gateway do goes through here.
 */
export class Connection {
  constructor(
    readonly name: string,
    private readonly runtime: Runtime,
  ) {}

  /** Set once the settings are resolved, so the hot path needs no await. */
  private ready?: ConnectionSetup;

  /** @internal resolved settings, store and manager; resolved on first use. */
  async setup(): Promise<ConnectionSetup> {
    if (this.ready) return this.ready;
    try {
      this.ready = await this.runtime.setup(this.name);
      return this.ready;
    } catch (err) {
      throw toTokenSmithError(err, this.name);
    }
  }

  /**
   * @internal resolved settings for dropping or moving the stored state (logout, export):
   * these need no secret, so a machine without them can still log out.
   */
  async stateSetup(): Promise<ConnectionSetup> {
    if (this.ready) return this.ready;
    try {
      return await this.runtime.stateSetup(this.name);
    } catch (err) {
      throw toTokenSmithError(err, this.name);
    }
  }

  /** The access token alone: cached, shared, refreshed before it expires (SPEC §2). */
  accessToken(options: TokenOptions = {}): Promise<string> {
    const ready = this.ready;
    if (ready && options.minTtl === undefined && !options.forceRefresh) {
      const token = ready.manager.cachedToken(ready.ctx);
      if (token !== undefined) return Promise.resolve(token);
    }
    return this.token(options).then((info) => info.accessToken);
  }

  /** @internal the in-memory token when it may be handed out now, without I/O (synchronous request paths). */
  cachedToken(): string | undefined {
    const ready = this.ready;
    return ready ? ready.manager.cachedToken(ready.ctx) : undefined;
  }

  /** The access token with its type, expiry, scope and extra response fields. */
  async token(options: TokenOptions & { rejectHash?: string } = {}): Promise<TokenInfo> {
    const { manager, ctx } = await this.setup();
    const minTtlMs = options.minTtl !== undefined ? options.minTtl * 1000 : undefined;
    let state: TokenState;
    try {
      state = await manager.access(ctx, { minTtlMs, forceRefresh: options.forceRefresh, rejectHash: options.rejectHash, signal: options.signal });
    } catch (err) {
      // The caller's own abort stays what it is (as fetch's): not a tokensmith failure.
      if (options.signal?.aborted && err === options.signal.reason) throw err;
      throw toTokenSmithError(err, this.name);
    }
    const info = toTokenInfo(state);
    const lifetime = lifetimeOf(state);
    const now = this.runtime.clock.now();
    if (minTtlMs !== undefined && lifetime && usableUntil(lifetime) - now < minTtlMs) {
      // §2.10: never loop for a TTL the server does not give; say so instead. Usable, not
      // nominal: the resolution and skew allowance come off what the server said.
      const usable = Math.max(0, Math.round((usableUntil(lifetime) - now) / 1000));
      const lives = lifetime.expiresAt === null ? "" : ` (it lives ${Math.round((lifetime.expiresAt - now) / 1000)} s)`;
      this.runtime.warn(`connection "${this.name}": a fresh token is usable for ${usable} s${lives}, less than the ${options.minTtl} s asked for; returning it anyway`);
    }
    return info;
  }

  /** The HTTP header(s) that carry the token, e.g. `{ Authorization: "Bearer ..." }`. */
  async headers(options: TokenOptions = {}): Promise<Record<string, string>> {
    const { conn } = await this.setup();
    const token = await this.accessToken(options);
    return { [conn.header.name]: conn.header.value.split("{token}").join(token) };
  }

  /** `fetch` with the token injected, 401 recovery and `api_retry` (SPEC §2.11, §2.13). */
  async fetch(input: string | URL, init: AuthorizedInit = {}): Promise<Response> {
    return authorizedFetch(this, this.ready ?? (await this.setup()), input, init);
  }

  /** Every record of a paginated API, page after page, with the token (SPEC §4); see `PaginateOptions`. */
  paginate<T = unknown>(input: string | URL, options: PaginateOptions = {}): AsyncGenerator<T, void, undefined> {
    return paginate<T>(this, input, options);
  }

  /**
   * An API refused `token` with 401: drop exactly that token everywhere (compare-and-
   * invalidate) and return its hash, to pass as `rejectHash` when asking for the next one.
   */
  async invalidate(token: string): Promise<string> {
    const { manager, ctx } = await this.setup();
    return manager.invalidate(ctx, token);
  }

  /**
   * @internal true when `token` already got a 401 right after being issued, in this process or
   * another one sharing the store (no more refreshes for it, §2.11).
   */
  async isDead(token: string): Promise<boolean> {
    const { manager } = await this.setup();
    return manager.isDead(hashSecret(token));
  }

  /** @internal mark `token` dead in the token state, here and in the store (compare-and-set by hash). */
  async markDead(token: string): Promise<void> {
    const { manager, ctx } = await this.setup();
    await manager.markDead(ctx, token);
  }

  /**
   * @internal after an API 403 to `sent` (§2.11): re-read the store; the token it holds when
   * that is another one, still good. Never a token request. When the store holds `sent` still
   * (or nothing good: `sent` may have passed its usable time on the way), a refresh may be under
   * way (Django OAuth Toolkit drops the old token the moment the refresh request arrives, before
   * its holder has the new one): wait for the lease, then read again.
   */
  async storedToken(sent: string): Promise<string | undefined> {
    const { manager, ctx } = await this.setup();
    if (ctx.cache === "none") return undefined;
    await manager.reload(ctx);
    let stored = manager.cachedToken(ctx);
    if (stored === sent || stored === undefined) {
      await manager.write(ctx, () => undefined);
      stored = manager.cachedToken(ctx);
    }
    return stored !== sent ? stored : undefined;
  }

  /**
   * Name, grant, provider and token URL (or issuer), for listings: from the config alone, with
   * no `${env:}`/`${file:}` reference read, so it needs no secret and opens no store.
   */
  describe(): { name: string; grant: string; provider: string | null; tokenUrl: string | null } {
    const conn = this.runtime.describe(this.name);
    return { name: this.name, grant: conn.grantType ?? conn.grant, provider: conn.provider ?? null, tokenUrl: conn.tokenUrl ?? conn.issuer ?? null };
  }

  /** State, expiry, counts; never secrets. */
  async status(): Promise<ConnectionStatus> {
    return connectionStatus(this, this.runtime);
  }

  /** Get a token (and call `test_url`), and say what worked, what failed and why. */
  async test(): Promise<Diagnosis> {
    return diagnose(this, this.runtime);
  }

  /** Revoke at the server (RFC 7009), then drop the local state. */
  async revoke(options: RevokeOptions = {}): Promise<RevokeResult> {
    return revokeConnection(this, options);
  }

  /**
   * Interactive authorization (SPEC §3 `login`): browser, manual paste or device flow, one at a
   * time per connection; stores the tokens. Loaded on first use so `accessToken()` stays light.
   */
  async login(options: LoginOptions = {}): Promise<LoginResult> {
    const { login } = await import("../flows/login.js");
    return login(this, options);
  }

  /**
   * Drop the local state only; a tombstone keeps the generation (§2.16). A state the store
   * cannot decrypt (a lost or replaced key, §2.15) fails with `store_error`, unless
   * `discardUnreadable`: then it is replaced by the tombstone, unread.
   */
  async logout(options: LogoutOptions = {}): Promise<void> {
    const { manager, ctx } = await this.stateSetup();
    await writeTombstone(manager, ctx, "logout", this.runtime.clock.now(), options.discardUnreadable);
  }

  /**
   * The login as a passphrase-encrypted bundle for `TokenSmith.import` on another machine
   * (SPEC §3). A move: the local state is tombstoned "moved", unless `copy` (with a warning).
   */
  async export(options: ExportOptions): Promise<string> {
    return exportState(this, options);
  }

  /** @internal write a tombstone under the store lease. */
  async tombstone(reason: "logout" | "revoked" | "moved"): Promise<TokenState | undefined> {
    const { manager, ctx } = await this.setup();
    return writeTombstone(manager, ctx, reason, this.runtime.clock.now());
  }
}

/** What `connection.logout()` may be told. */
export interface LogoutOptions {
  /** Also remove a state that cannot be decrypted with the store's keys (shown as `unreadable` by status). */
  discardUnreadable?: boolean;
}

/** Replaces the state by a tombstone under the store lease (§2.16); returns what was live. */
async function writeTombstone(
  manager: TokenManager,
  ctx: ConnectionContext,
  reason: "logout" | "revoked" | "moved",
  at: number,
  discardUnreadable = false,
): Promise<TokenState | undefined> {
  let previous: TokenState | undefined;
  await manager.write(
    ctx,
    (current) => {
      previous = live(current);
      return transition(current, { type: "removed", reason }, at);
    },
    { discardUnreadable },
  );
  return previous;
}

/** The public view of a token state. */
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

import { TokenSmithError, toTokenSmithError } from "../errors.js";
import { authorizedFetch, type AuthorizedInit } from "../http/fetch.js";
import type { TokenProvider } from "../http/call.js";
import { hashSecret } from "../redact.js";
import type { ConnectionSetup, Runtime } from "./runtime.js";
import { lifetimeOf, live, type TokenState } from "./state.js";
import { usableUntil } from "./timing.js";
import { toTokenInfo, type TokenInfo, type TokenOptions } from "./token-info.js";
import { transition } from "./transitions.js";

/**
 * The engine behind a public `Connection` (SPEC §7 "the connection handle"): its resolved
 * settings, manager and store, and the operations the library's own layers need (the HTTP
 * adapters' 401/403 recovery, status, test, revoke, login, export/import, the gateway's
 * dashboard login) but a user must not reach. A `Connection` keeps it in a private field; the
 * only way from a connection to its handle is `internals(connection)`, exported from here and
 * from no public entry point, so the shipped types show none of it.
 */
export class ConnectionHandle implements TokenProvider {
  /** Set once the settings are resolved, so the hot path needs no await. */
  ready?: ConnectionSetup;

  constructor(
    readonly name: string,
    readonly runtime: Runtime,
  ) {}

  /** Resolved settings, store and manager; resolved on first use. */
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
   * Resolved settings for dropping or moving the stored state (logout, export): these need no
   * secret, so a machine without them can still log out.
   */
  async stateSetup(): Promise<ConnectionSetup> {
    if (this.ready) return this.ready;
    try {
      return await this.runtime.stateSetup(this.name);
    } catch (err) {
      throw toTokenSmithError(err, this.name);
    }
  }

  /** The in-memory token when it may be handed out now, without I/O (synchronous request paths). */
  cachedToken(): string | undefined {
    const ready = this.ready;
    return ready ? ready.manager.cachedToken(ready.ctx) : undefined;
  }

  /** The access token this process holds in memory, usable or not, without any I/O (the gateway's cache-hit count). */
  heldToken(): string | undefined {
    return this.ready?.manager.peek()?.accessToken;
  }

  accessToken(options: TokenOptions = {}): Promise<string> {
    if (options.minTtl === undefined && !options.forceRefresh) {
      const token = this.cachedToken();
      if (token !== undefined) return Promise.resolve(token);
    }
    return this.token(options).then((info) => info.accessToken);
  }

  async token(options: TokenOptions & { rejectHash?: string } = {}): Promise<TokenInfo> {
    const { manager, ctx } = await this.setup();
    this.runtime.used(this.name);
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

  /** `fetch` with the token injected, 401 recovery and `api_retry` (SPEC §2.11, §2.13). */
  async fetch(input: string | URL, init: AuthorizedInit = {}): Promise<Response> {
    const setup = this.ready ?? (await this.setup());
    this.runtime.used(this.name);
    return authorizedFetch(this, setup, input, init);
  }

  async invalidate(token: string): Promise<string> {
    const { manager, ctx } = await this.setup();
    return manager.invalidate(ctx, token);
  }

  /**
   * True when `token` already got a 401 right after being issued, in this process or another
   * one sharing the store (no more refreshes for it, §2.11).
   */
  async isDead(token: string): Promise<boolean> {
    const { manager } = await this.setup();
    return manager.isDead(hashSecret(token));
  }

  /** Mark `token` dead in the token state, here and in the store (compare-and-set by hash). */
  async markDead(token: string): Promise<void> {
    const { manager, ctx } = await this.setup();
    await manager.markDead(ctx, token);
  }

  /**
   * After an API 403 to `sent` (§2.11): re-read the store; the token it holds when that is
   * another one, still good. Never a token request.
   */
  async storedToken(sent: string): Promise<string | undefined> {
    const { manager, ctx } = await this.setup();
    if (ctx.cache === "none") return undefined;
    await manager.reload(ctx);
    let stored = manager.cachedToken(ctx);
    // Still `sent` (or nothing good: `sent` may have passed its usable time on the way): a
    // refresh may be under way (Django OAuth Toolkit drops the old token the moment the refresh
    // request arrives, before its holder has the new one): wait for the lease, then read again.
    if (stored === sent || stored === undefined) {
      await manager.write(ctx, () => undefined);
      stored = manager.cachedToken(ctx);
    }
    return stored !== sent ? stored : undefined;
  }

  /**
   * Replaces the state by a tombstone under the store lease (§2.16); returns what was live.
   * `logout` needs no secret (its setup is `stateSetup`); a state the store cannot decrypt is
   * replaced unread only with `discardUnreadable`.
   */
  async tombstone(reason: "logout" | "revoked" | "moved", discardUnreadable = false): Promise<TokenState | undefined> {
    const { manager, ctx } = reason === "logout" ? await this.stateSetup() : await this.setup();
    let previous: TokenState | undefined;
    await manager.write(
      ctx,
      (current) => {
        previous = live(current);
        return transition(current, { type: "removed", reason, by: { connection: this.name, process: this.runtime.holder } }, this.runtime.clock.now());
      },
      { discardUnreadable },
    );
    return previous;
  }
}

/** Each public `Connection`'s handle; a WeakMap, so nothing on the connection itself leads here. */
const handles = new WeakMap<object, ConnectionHandle>();

/** Ties `handle` to the public object `owner` (called once, by `Connection`'s constructor). */
export function attachHandle(owner: object, handle: ConnectionHandle): void {
  handles.set(owner, handle);
}

/** The handle of a connection got from `ts.connection(name)`; `usage_error` for anything else. */
export function internals(connection: object): ConnectionHandle {
  const handle = handles.get(connection);
  if (!handle) {
    throw new TokenSmithError("usage_error", "expected a connection from tokensmith (`ts.connection(name)`)", {
      hint: "get connections from `(await TokenSmith.load()).connection(name)`",
    });
  }
  return handle;
}

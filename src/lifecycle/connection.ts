import type { AuthorizedInit } from "../http/fetch.js";
import { paginate, type PaginateOptions } from "../http/paginate.js";
import type { LoginOptions, LoginResult } from "./login.js";
import { diagnose, type Diagnosis } from "./diagnose.js";
import { attachHandle, ConnectionHandle } from "./handle.js";
import { requestLog, type HistoryOptions, type TokenRequestLog } from "./request-log.js";
import { revokeConnection, type RevokeOptions, type RevokeResult } from "./revoke.js";
import type { Runtime } from "./runtime.js";
import { connectionStatus, type ConnectionStatus } from "./status.js";
import type { TokenInfo, TokenOptions } from "./token-info.js";
import { exportState, type ExportOptions } from "./transfer.js";

export type { TokenInfo, TokenOptions } from "./token-info.js";

/**
 * A named connection: its settings and the token state it shares with every connection of the
 * same settings (same token URL, client, grant, identity and scopes). Get one from
 * `ts.connection(name)`. Everything the CLI and the gateway do goes through here.
 */
export class Connection {
  /** The engine: settings, manager, store. Reached by tokensmith's own layers through `internals()`, never by users. */
  readonly #handle: ConnectionHandle;

  private constructor(
    /** The connection's name in the config. */
    readonly name: string,
    runtime: Runtime,
  ) {
    this.#handle = new ConnectionHandle(name, runtime);
    attachHandle(this, this.#handle);
  }

  /** @internal How `TokenSmith` makes its connections. */
  static create(name: string, runtime: Runtime): Connection {
    return new Connection(name, runtime);
  }

  /** The access token alone: cached, shared with other processes, refreshed before it expires. */
  accessToken(options: TokenOptions = {}): Promise<string> {
    return this.#handle.accessToken(options);
  }

  /**
   * The access token with its type, expiry, scope and extra response fields. `rejectHash` (what
   * `invalidate()` returned) asks for a token other than the one an API just refused.
   */
  token(options: TokenOptions & { rejectHash?: string } = {}): Promise<TokenInfo> {
    return this.#handle.token(options);
  }

  /** The HTTP header(s) that carry the token, e.g. `{ Authorization: "Bearer ..." }`. */
  async headers(options: TokenOptions = {}): Promise<Record<string, string>> {
    const { conn } = await this.#handle.setup();
    const token = await this.accessToken(options);
    return { [conn.header.name]: conn.header.value.split("{token}").join(token) };
  }

  /**
   * `fetch` with the token injected: only to the origin called (redirects elsewhere are
   * followed without it); a 401 drops that token and retries once with a fresh one; 429/503
   * are retried after `Retry-After` when `api_retry` (or `init.retry`) says so.
   */
  fetch(input: string | URL, init: AuthorizedInit = {}): Promise<Response> {
    return this.#handle.fetch(input, init);
  }

  /** Every record of a paginated API, page after page, with the token; see `PaginateOptions`. */
  paginate<T = unknown>(input: string | URL, options: PaginateOptions = {}): AsyncGenerator<T, void, undefined> {
    return paginate<T>(this.#handle, input, options);
  }

  /**
   * An API refused `token` with 401: drop exactly that token everywhere (compare-and-
   * invalidate) and return its hash, to pass as `rejectHash` when asking for the next one.
   */
  invalidate(token: string): Promise<string> {
    return this.#handle.invalidate(token);
  }

  /**
   * Name, grant, provider and token URL (or issuer), for listings: from the config alone, with
   * no `${env:}`/`${file:}` reference read, so it needs no secret and opens no store.
   */
  describe(): { name: string; grant: string; provider: string | null; tokenUrl: string | null } {
    const conn = this.#handle.runtime.describe(this.name);
    return { name: this.name, grant: conn.grantType ?? conn.grant, provider: conn.provider ?? null, tokenUrl: conn.tokenUrl ?? conn.issuer ?? null };
  }

  /** State, expiry, counts; never secrets. */
  status(): Promise<ConnectionStatus> {
    return connectionStatus(this.#handle);
  }

  /**
   * The recent token requests of this connection's token state, newest first (the last 50 are
   * kept, in the store, so every process's requests show): when, which grant, ok or error,
   * how long, the error codes, which process and connection asked. Never a secret.
   */
  history(options: HistoryOptions = {}): Promise<TokenRequestLog> {
    return requestLog(this.#handle, options);
  }

  /**
   * Get a token (and call `test_url`), and say what worked, what failed and why. `forceRefresh`:
   * ask the server again at once, whatever error is remembered (a valid token that cannot be
   * renewed without a person is kept).
   */
  test(options: TestOptions = {}): Promise<Diagnosis> {
    return diagnose(this.#handle, options);
  }

  /** Revoke at the server (RFC 7009), then drop the local state. */
  revoke(options: RevokeOptions = {}): Promise<RevokeResult> {
    return revokeConnection(this.#handle, options);
  }

  /**
   * Interactive authorization: browser, manual paste or device flow, one at a time per
   * connection across processes; stores the tokens. Loaded on first use so `accessToken()`
   * stays light.
   */
  async login(options: LoginOptions = {}): Promise<LoginResult> {
    const { login } = await import("./login.js");
    return login(this.#handle, options);
  }

  /**
   * Drop the local state only; a tombstone keeps the record's generation, so other processes
   * see the removal. A state the store cannot decrypt (a lost or replaced key) fails with
   * `store_error`, unless `discardUnreadable`: then it is replaced by the tombstone, unread.
   */
  async logout(options: LogoutOptions = {}): Promise<void> {
    await this.#handle.tombstone("logout", options.discardUnreadable);
  }

  /**
   * The login as a passphrase-encrypted bundle for `TokenSmith.import` on another machine.
   * A move: the local state is tombstoned "moved", unless `copy` (with a warning).
   */
  export(options: ExportOptions): Promise<string> {
    return exportState(this.#handle, options);
  }
}

/** What `connection.test()` may be told. */
export interface TestOptions {
  forceRefresh?: boolean;
  /** Whose hints: CLI commands (default), or the dashboard's own buttons. */
  hints?: "cli" | "dashboard";
}

/** What `connection.logout()` may be told. */
export interface LogoutOptions {
  /** Also remove a state that cannot be decrypted with the store's keys (shown as `unreadable` by status). */
  discardUnreadable?: boolean;
}

import type { Clock } from "../clock.js";
import type { ResolvedConnection } from "../config/types.js";
import { apiRetryDelay, retryPolicy, type ApiRetryOptions, type ApiRetryPolicy } from "./retry.js";

/**
 * What the HTTP layer needs of a connection: its handle (lifecycle/handle.ts) is one. fetch,
 * the undici interceptor and the axios interceptor all take one, so they recover from a 401
 * the same way. Internal: the adapters' public functions take a `Connection`.
 */
export interface TokenProvider {
  readonly name: string;
  /** The current token (the cached one when it is still good). */
  accessToken(): Promise<string>;
  /** The token when it can be had without waiting (in memory and good), else undefined. */
  cachedToken?(): string | undefined;
  /** A token other than the one with hash `rejectHash` (the one an API just refused). */
  token(options?: { rejectHash?: string; forceRefresh?: boolean }): Promise<{ accessToken: string }>;
  /** Compare-and-invalidate `token` wherever it is cached; returns its hash. */
  invalidate(token: string): Promise<string>;
  /**
   * True when `token` got a 401 right after it was issued, in this process or another sharing
   * the store: no more refreshes for it. Cheap (no I/O once the state has been read).
   */
  isDead(token: string): Promise<boolean>;
  /** Record that `token`, issued just now, got a 401 too (durably, where the state is stored). */
  markDead(token: string): Promise<void>;
  /**
   * After an API 403 to `sent`: the token the store holds now, re-read, when it is another one
   * still good (another process refreshed, §2.11); undefined otherwise. Never a token request.
   */
  storedToken(sent: string): Promise<string | undefined>;
  /** The connection's settings and clock. */
  setup(): Promise<{ conn: HttpSettings; clock: Clock }>;
}

/** The connection settings API calls use. */
export type HttpSettings = Pick<ResolvedConnection, "name" | "header" | "allowedOrigins" | "allowInsecureHttp" | "apiRetry">;

type CallSettings = { conn: HttpSettings; clock: Clock };
type CallRequest = { method: string; replayable: boolean; retry?: ApiRetryOptions | false };

/** A response header by (lower-case) name, however the adapter holds them. */
export type HeaderReader = (name: string) => string | null | undefined;

/**
 * A 401 whose challenge says `insufficient_scope` (RFC 6750 §3.1; some APIs send it with 401
 * instead of 403): a new token of the same scopes would be refused too, so no refresh (§2.11).
 */
export function isInsufficientScope(challenge: string | null | undefined): boolean {
  return !!challenge && /\berror\s*=\s*"?insufficient_scope\b/i.test(challenge);
}

/**
 * The decisions of one authorized API call, whatever sends it (SPEC §2.11, §2.13). The adapter
 * sends with `token`, shows each response's status to `next()`, and sends again when told to:
 *
 * - a 401 invalidates exactly the token that was sent (compare-and-invalidate by hash, so 50
 *   simultaneous 401s cause one refresh) and sends once more with a fresh token, if the body
 *   can be replayed; a fresh token refused too is marked dead in the stored state, so no
 *   process refreshes because of it again (until it expires or is replaced): no refresh storm;
 * - a 403 (not for `insufficient_scope`) sends once more, without a refresh, when the store
 *   holds another token than the one sent: another process refreshed, and servers such as
 *   Django OAuth Toolkit delete the old access token and answer 403 to it;
 * - a status in the retry policy (429, 503) waits (`Retry-After`, capped) and sends again;
 * - anything else, and a 401 or 403 for `insufficient_scope`, goes back to the caller.
 */
export class AuthorizedCall {
  /** The token to send the next attempt with. */
  token = "";
  /**
   * Set when a 401 to a body that cannot be replayed is being dealt with: the refused token is
   * invalidated all the same. Never rejects; adapters that can wait for it (fetch) do, so the
   * caller's next call sees the fresh token.
   */
  dropping?: Promise<void>;
  private refreshed = false;
  /** A 403 was answered once already: the stored token has had its one try. */
  private forbidden = false;
  private retries = 0;

  private constructor(
    private readonly source: TokenProvider,
    private readonly clock: Clock,
    private readonly policy: ApiRetryPolicy | undefined,
    private readonly method: string,
    private readonly replayable: boolean,
  ) {}

  /** A call with its first token. */
  static async start(source: TokenProvider, settings: CallSettings, request: CallRequest): Promise<AuthorizedCall> {
    return AuthorizedCall.with(source, settings, request, await source.accessToken());
  }

  /** A call with a token already in hand (the synchronous path of the undici interceptor). */
  static with(source: TokenProvider, settings: CallSettings, request: CallRequest, token: string): AuthorizedCall {
    const call = new AuthorizedCall(source, settings.clock, retryPolicy(settings.conn, request.retry), request.method.toUpperCase(), request.replayable);
    call.token = token;
    return call;
  }

  /**
   * Whether `next()` might send again after a response with `status`: a cheap synchronous
   * check, so adapters hand every other response straight through (and only hold these).
   */
  mayRetry(status: number, header?: HeaderReader): boolean {
    if (status === 401) {
      if (isInsufficientScope(header?.("www-authenticate"))) return false;
      if (this.replayable) return true;
      // Not sent again, but the refused token still goes: the next call gets a fresh one (§2.11).
      this.dropping ??= this.dropRefused();
      return false;
    }
    if (status === 403) {
      if (this.forbidden || isInsufficientScope(header?.("www-authenticate"))) return false;
      if (this.replayable) return true;
      // Not sent again, but the store is re-read: the next call gets the token it holds.
      this.dropping ??= this.source.storedToken(this.token).then(
        () => {},
        () => {},
      );
      return false;
    }
    if (!this.replayable) return false;
    const policy = this.policy;
    return !!policy && policy.on.includes(status) && this.retries < policy.max;
  }

  /**
   * What to do about a response: undefined hands it to the caller; a number means "wait this
   * many ms, then send again with `this.token`".
   */
  async next(status: number, header?: HeaderReader): Promise<number | undefined> {
    if (status === 401) return isInsufficientScope(header?.("www-authenticate")) ? undefined : this.afterUnauthorized();
    if (status === 403) return isInsufficientScope(header?.("www-authenticate")) ? undefined : this.afterForbidden();
    const delay = apiRetryDelay(
      this.policy,
      { method: this.method, attempt: this.retries + 1 },
      { status, retryAfter: header?.("retry-after") },
      this.clock.now(),
    );
    if (delay === undefined || !this.replayable) return undefined;
    this.retries++;
    return delay;
  }

  /** Wait before the next attempt (the connection's clock, so tests need not). */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    return ms > 0 ? this.clock.sleep(ms, signal) : Promise.resolve();
  }

  /** Invalidate the token a 401 refused (a token known dead stays: no more refreshes for it). */
  private async dropRefused(): Promise<void> {
    try {
      await this.source.invalidate(this.token);
    } catch {
      // The next call re-reads the store and finds out for itself; this one already has its 401.
    }
  }

  /** §2.11: a 403 to a token the store has since replaced is retried once with the stored one. */
  private async afterForbidden(): Promise<number | undefined> {
    if (this.forbidden || !this.replayable) return undefined;
    this.forbidden = true;
    const stored = await this.source.storedToken(this.token);
    if (stored === undefined) return undefined;
    this.token = stored;
    return 0;
  }

  private async afterUnauthorized(): Promise<number | undefined> {
    const sent = this.token;
    if (this.refreshed) {
      // A token issued just now was refused too: the API does not want this token at all.
      // The mark is best effort: this call has its 401 either way.
      await this.source.markDead(sent).catch(() => {});
      return undefined;
    }
    if (!this.replayable || (await this.source.isDead(sent))) return undefined;
    const rejectHash = await this.source.invalidate(sent);
    // The store may have said, just now, that another process found this token dead.
    if (await this.source.isDead(sent)) return undefined;
    this.token = (await this.source.token({ rejectHash })).accessToken;
    this.refreshed = true;
    return 0;
  }
}

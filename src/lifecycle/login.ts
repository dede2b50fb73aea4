import { GRANT_TABLE } from "../config/grants.js";
import { TokenSmithError, toTokenSmithError } from "../errors.js";
import { missingPasteReader } from "../flows/authorization-code.js";
import { DEFAULT_LOGIN_TIMEOUT_MS } from "../flows/deadline.js";
import { runFlow, type FlowOptions, type LoginFlow } from "../flows/login.js";
import type { ClientRunner, ObtainedTokens, TokenRequest } from "../flows/types.js";
import { protocolClientWith } from "../config/protocol-client.js";
import type { Lease, UpdateResult } from "../store/types.js";
import type { ConnectionHandle } from "./handle.js";
import { requestEntry } from "./history.js";
import { loginLockKey, type ConnectionSetup } from "./runtime.js";
import { live, type TokenState } from "./state.js";
import { transition } from "./transitions.js";

/**
 * Login orchestration (`tokensmith login`, `connection.login()`): one interactive
 * authorization per connection at a time, on a lock of its own in the store (separate from
 * the refresh lease, so `token` never waits on a person), then the tokens stored as a new
 * state under the refresh lease. Getting the tokens from the person is flows/'s job; the
 * gateway's dashboard login uses the same lock and the same store write.
 */

export type { LoginFlow } from "../flows/login.js";

/** Options of `connection.login()`; the callbacks are how the library talks to a person (it never prints). */
export interface LoginOptions extends FlowOptions {
  /** Default: `device` for `grant: device_code`, else `browser`. */
  flow?: LoginFlow;
  /** Wait for a login in progress elsewhere instead of failing with `login_in_progress`. */
  wait?: boolean;
  /** Told once when `wait` is set and another login holds the lock. */
  onWaiting?: (holder: string | undefined) => void;
  signal?: AbortSignal;
}

/** What a login produced; never a secret. */
export interface LoginResult {
  connection: string;
  flow: LoginFlow;
  scope: string;
  /** null when the token does not expire. */
  expiresAt: Date | null;
  hasRefreshToken: boolean;
  /** True when `wait` found that the login being waited for had succeeded, so none was started. */
  completedElsewhere: boolean;
}

/** @internal The login lock's lease: renewed while the login runs, so this only bounds how long a crashed login blocks the next one. */
export const LOGIN_LEASE_MS = 30_000;

/**
 * `login_in_progress` (exit 3): another login holds the connection's login lock (`holder` is its
 * pid@host). `waited`: still so after waiting; `hint` replaces the one for the CLI.
 * @internal
 */
export function loginInProgress(connection: string, holder: string | undefined, options: { waited?: boolean; hint?: string } = {}): TokenSmithError {
  const who = holder ?? "another process";
  const { waited = false } = options;
  return new TokenSmithError("login_in_progress", `connection "${connection}": login in progress (${who})${waited ? ", still, after waiting" : ""}`, {
    connection,
    hint:
      options.hint ??
      (waited
        ? "finish or cancel that login, then try again"
        : `finish that login, or run \`tokensmith login ${connection} --wait\` to wait for it (a crashed one's lock expires within ${LOGIN_LEASE_MS / 1000} s)`),
  });
}

/** @internal How the login lock is taken: at once or waiting, until when, and the caller's abort. */
export interface LoginLockOptions {
  mode: "try" | "wait";
  deadline?: number;
  signal?: AbortSignal;
}

/** @internal Runs `fn` holding the connection's login lock (writing nothing under it); `busy` when another login holds it. */
export function withLoginLock(setup: ConnectionSetup, fn: (lease: Lease) => Promise<void>, options: LoginLockOptions): Promise<UpdateResult<undefined>> {
  return setup.store.update<undefined>(
    loginLockKey(setup.fingerprint),
    async (_current, lease) => {
      await fn(lease);
      return undefined;
    },
    { mode: options.mode, holder: setup.holder, leaseMs: LOGIN_LEASE_MS, deadline: options.deadline, signal: options.signal },
  );
}

/**
 * Stores a login's tokens as a new state (`tokensmith login`, the gateway's `/callback`): only
 * the used seeds and the counters carry over; a configured seed counts as used (§2.9).
 * @internal
 */
export async function storeLogin(setup: ConnectionSetup, obtained: ObtainedTokens, grant: "authorization_code" | "device_code" = "authorization_code"): Promise<TokenState> {
  const { conn, manager, ctx, clock } = setup;
  let stored!: TokenState;
  // The login's token request (the code exchange, or the device grant's last poll) is logged.
  const entries = [requestEntry({ connection: ctx.name, process: setup.holder }, grant, obtained.sentAt, clock.now())];
  await manager.write(ctx, (current) => {
    // A configured seed predates this login; adopting it later would throw the login away (§2.9).
    const event = { type: "logged_in", ...obtained, policy: conn, seedRefreshToken: conn.refreshToken, entries } as const;
    stored = transition(current, event, clock.now());
    return stored;
  });
  return stored;
}

function resultOf(connection: string, flow: LoginFlow, state: TokenState, completedElsewhere: boolean): LoginResult {
  return {
    connection,
    flow,
    scope: state.scope ?? "",
    expiresAt: typeof state.expiresAt === "number" ? new Date(state.expiresAt) : null,
    hasRefreshToken: !!state.refreshToken,
    completedElsewhere,
  };
}

/**
 * Interactive authorization for a connection: takes the connection's login lock
 * (`login_in_progress` when another login holds it, unless `wait`), runs the browser, manual
 * or device flow, and stores the tokens.
 * @internal
 */
export async function login(connection: ConnectionHandle, options: LoginOptions = {}): Promise<LoginResult> {
  const name = connection.name;
  try {
    const setup = await connection.setup();
    connection.runtime.used(name);
    const { conn, store: kv } = setup;
    if (!GRANT_TABLE[conn.grant].interactive) {
      throw new TokenSmithError("usage_error", `connection "${name}" uses the ${conn.grant} grant: there is nothing to log in to`, {
        connection: name,
        hint: `\`tokensmith token ${name}\` gets its tokens without a person`,
      });
    }
    const flow: LoginFlow = options.flow ?? GRANT_TABLE[conn.grant].loginFlow ?? "browser";
    if (flow === "manual" && !options.readPastedUrl) throw missingPasteReader(name);

    let result: LoginResult | undefined;
    let locked = false;
    const attempt = (mode: "try" | "wait", waitedFrom?: number) =>
      withLoginLock(
        setup,
        async (lease) => {
          locked = true;
          if (waitedFrom !== undefined) {
            // The login we waited for may have done the job: then there is nothing to start.
            const record = await kv.get<TokenState>(setup.manager.key);
            const state = live(record?.value);
            if (record && record.generation > waitedFrom && state?.accessToken && !state.reauth) {
              result = resultOf(name, flow, state, true);
              await setup.manager.reload(setup.ctx);
              return;
            }
          }
          const signal = options.signal ? AbortSignal.any([options.signal, lease.signal]) : lease.signal;
          const obtained = await runFlow({ ...setup, requestToken: codeExchange(setup), withClient: clientRunner(setup) }, flow, options, signal);
          result = resultOf(name, flow, await storeLogin(setup, obtained, flow === "device" ? "device_code" : "authorization_code"), false);
        },
        { mode, deadline: setup.clock.now() + (options.timeoutMs ?? DEFAULT_LOGIN_TIMEOUT_MS) + LOGIN_LEASE_MS, signal: options.signal },
      );

    const first = await attempt("try");
    if (first.status === "busy") {
      if (!options.wait) throw loginInProgress(name, first.holder);
      options.onWaiting?.(first.holder);
      const waitedFrom = (await kv.get(setup.manager.key))?.generation ?? 0;
      try {
        await attempt("wait", waitedFrom);
      } catch (err) {
        if (!locked && err instanceof TokenSmithError && err.code === "lock_timeout") throw loginInProgress(name, first.holder, { waited: true });
        throw err;
      }
    }
    if (!result) throw new TokenSmithError("unexpected", `connection "${name}": the login lock was released without a result`);
    return result;
  } catch (err) {
    if (options.signal?.aborted && err === options.signal.reason) throw err;
    throw toTokenSmithError(err, name);
  }
}

/** @internal The code exchange of a login, sent as the connection's other token requests are (with what `client_auth: auto` found). */
export function codeExchange(setup: Pick<ConnectionSetup, "ctx" | "conn">): TokenRequest {
  return (grant, signal) => setup.ctx.requester.request(grant, { timeoutMs: setup.conn.timeoutMs, signal });
}

/** @internal A flow's other requests (the device flow's) with what `client_auth: auto` found, trying the methods in order when none is known yet. */
export function clientRunner(setup: Pick<ConnectionSetup, "conn" | "authChoice" | "endpoints">): ClientRunner {
  return async (send) => {
    const tokenUrl = setup.authChoice ? (await setup.endpoints()).tokenUrl : undefined;
    if (!setup.authChoice || !tokenUrl) return send(protocolClientWith(setup.conn, undefined));
    return setup.authChoice.run(tokenUrl, (method) => send(protocolClientWith(setup.conn, method)));
  };
}

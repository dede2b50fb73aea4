import { TokenSmithError } from "../errors.js";
import { checkAuthorizationResponse, type ExpectedResponse } from "../flows/callback.js";
import { loginEndpoints } from "../flows/endpoints.js";
import { validateIdToken } from "../flows/id-token.js";
import { LOGIN_LEASE_MS } from "../flows/login.js";
import { expectedIssuer } from "../flows/types.js";
import type { Connection } from "../lifecycle/connection.js";
import { mergeTokens } from "../lifecycle/merge.js";
import { loginLockKey, type ConnectionSetup } from "../lifecycle/runtime.js";
import type { TokenState } from "../lifecycle/state.js";
import { prepareAuthorization } from "../protocol/authorization-url.js";
import { requestToken } from "../protocol/send.js";
import type { Endpoints, TokenSet } from "../protocol/types.js";
import { hashSecret } from "../redact.js";
import { redirectFor } from "./authorize-check.js";
import { GatewayError } from "./errors.js";

/**
 * Browser authorization from the dashboard (SPEC §5 `/authorize/NAME`, `/callback`): the
 * authorization code flow of `tokensmith login` with the gateway's own `/callback` as the
 * redirect URI. `state` (high-entropy, single use, short-lived) binds the callback to the
 * authorization the signed-in user started, so the callback needs no session cookie — which
 * a SameSite=Strict cookie would not carry on a redirect from the authorization server.
 * `tokensmith login`'s browser flow listens on a port of its own, so it cannot be used as is;
 * its parts are: endpoints, response and ID token checks, the login lock (src/flows/).
 */

/** A person has this long to finish at the provider, as `tokensmith login`'s default timeout. */
export const AUTHORIZATION_TIMEOUT_MS = 300_000;
/** Authorizations started and not finished, kept at most (each is a few hundred bytes). */
const MAX_PENDING = 50;

interface Pending {
  connection: Connection;
  redirectUri: string;
  codeVerifier?: string;
  nonce?: string;
  endpoints: Endpoints;
  expiresAt: number;
}

/** The authorizations started from this gateway's dashboard and not finished yet, by `state`. */
export class BrowserAuthorizations {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly callbackUrl: string,
    private readonly now: () => number,
  ) {}

  /** Starts an authorization: the URL to send the browser to. */
  async start(connection: Connection): Promise<string> {
    const setup = await connection.setup();
    const redirect = redirectFor(setup.conn, this.callbackUrl);
    if (!redirect.available) {
      throw new GatewayError(
        409,
        "cannot_authorize",
        `connection "${connection.name}" cannot be authorized from the dashboard: ${redirect.reason}`,
        redirect.manual ? `use \`${redirect.manual}\`` : undefined,
      );
    }
    await this.checkNoLogin(setup, connection.name);
    const endpoints = await loginEndpoints(setup.conn, "authorization_code", setup);
    const prepared = prepareAuthorization(setup.conn, endpoints, { redirectUri: redirect.redirectUri });
    this.prune();
    this.pending.set(prepared.state, {
      connection,
      redirectUri: redirect.redirectUri,
      codeVerifier: prepared.codeVerifier,
      nonce: prepared.nonce,
      endpoints,
      expiresAt: this.now() + AUTHORIZATION_TIMEOUT_MS,
    });
    return prepared.url;
  }

  /**
   * Finishes an authorization from the callback's query: checks state, `iss` (RFC 9207) and
   * `error`, exchanges the code, validates the ID token, stores the tokens. Returns the
   * connection name. A state this gateway did not issue (or already used) is a 400.
   */
  async finish(query: URLSearchParams): Promise<string> {
    const state = query.get("state") ?? "";
    const pending = this.pending.get(state);
    if (!pending || pending.expiresAt <= this.now()) {
      throw new GatewayError(400, "bad_request", "this authorization response is unknown, used or expired (state does not match)", "start again from the dashboard");
    }
    this.pending.delete(state);
    const { connection, endpoints } = pending;
    const setup = await connection.setup();
    const issuer = expectedIssuer(setup.conn, endpoints);
    const expected: ExpectedResponse = { connection: connection.name, state, ...issuer, issRequired: endpoints.authorizationResponseIssParameterSupported === true };
    const code = checkAuthorizationResponse(query, expected);
    // Under the login lock, as `tokensmith login`: one interactive login per connection at a time.
    const locked = await setup.store.update(
      loginLockKey(setup.fingerprint),
      async () => {
        const now = () => setup.clock.now();
        const grant = { kind: "authorization_code" as const, code, redirectUri: pending.redirectUri, codeVerifier: pending.codeVerifier };
        const { tokens, sentAt } = await requestToken(setup.conn, endpoints, grant, { fetch: setup.fetch, now });
        if (tokens.idToken) await validateIdToken(tokens.idToken, setup.conn, endpoints, { ...issuer, nonce: pending.nonce }, { fetch: setup.fetch, now });
        await storeLogin(setup, tokens, sentAt);
        return undefined;
      },
      { mode: "try", holder: setup.holder, leaseMs: LOGIN_LEASE_MS },
    );
    if (locked.status === "busy") throw inProgress(connection.name, locked.holder);
    return connection.name;
  }

  /** One interactive login per connection at a time (SPEC §3): refuse while `tokensmith login` holds its lock. */
  private async checkNoLogin(setup: ConnectionSetup, name: string): Promise<void> {
    const result = await setup.store.update(loginLockKey(setup.fingerprint), () => undefined, { mode: "try", holder: setup.holder });
    if (result.status === "busy") throw inProgress(name, result.holder);
  }

  private prune(): void {
    const now = this.now();
    for (const [state, pending] of this.pending) if (pending.expiresAt <= now) this.pending.delete(state);
    while (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
  }
}

function inProgress(name: string, holder: string | undefined): TokenSmithError {
  return new TokenSmithError("login_in_progress", `connection "${name}": login in progress (${holder ?? "another process"})`, {
    connection: name,
    hint: "finish or cancel that login, then authorize again",
  });
}

/**
 * Stores a login's tokens as a new state, as `tokensmith login` does: only the used seeds
 * (a configured seed counts as used, §2.9, or adopting it later would throw this login away)
 * and the counters carry over.
 */
async function storeLogin(setup: ConnectionSetup, tokens: TokenSet, sentAt: number): Promise<void> {
  const { conn, manager, ctx, clock } = setup;
  await manager.write(ctx, (current) => {
    const seeds = new Set(current?.seeds ?? []);
    if (conn.refreshToken) seeds.add(hashSecret(conn.refreshToken));
    const base: TokenState = { v: 1, seeds: seeds.size ? [...seeds] : undefined, tokenRequests: current?.tokenRequests };
    return mergeTokens(base, tokens, sentAt, conn, undefined, 1, clock.now());
  });
}

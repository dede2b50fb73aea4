import { protocolClient } from "../config/protocol-client.js";
import { exchangeCode, expectedResponse, type AuthorizationSecrets } from "../flows/authorization-code.js";
import { checkAuthorizationResponse } from "../flows/callback.js";
import { DEFAULT_LOGIN_TIMEOUT_MS } from "../flows/deadline.js";
import { loginEndpoints } from "../flows/endpoints.js";
import type { Connection } from "../lifecycle/connection.js";
import { internals } from "../lifecycle/handle.js";
import { codeExchange, loginInProgress, storeLogin, withLoginLock } from "../lifecycle/login.js";
import type { ConnectionSetup } from "../lifecycle/runtime.js";
import { prepareAuthorization } from "../protocol/authorization-url.js";
import type { Endpoints } from "../protocol/types.js";
import { redirectFor } from "./authorize-check.js";
import { GatewayError } from "./errors.js";

/**
 * Browser authorization from the dashboard (SPEC §5 `/authorize/NAME`, `/callback`): the
 * authorization code flow of `tokensmith login` with the gateway's own `/callback` as the
 * redirect URI. `state` (high-entropy, single use, short-lived) binds the callback to the
 * authorization the signed-in user started, so the callback needs no session cookie — which
 * a SameSite=Strict cookie would not carry on a redirect from the authorization server.
 * `tokensmith login`'s browser flow listens on a port of its own, so it cannot be used as is;
 * its parts are: endpoints, the response check, the code exchange with the ID token check
 * (src/flows/), and the login lock and storing the login (src/lifecycle/login.ts).
 */

/** A person has this long to finish at the provider, as with `tokensmith login`. */
export const AUTHORIZATION_TIMEOUT_MS = DEFAULT_LOGIN_TIMEOUT_MS;
/** Authorizations started and not finished, kept at most (each is a few hundred bytes). */
const MAX_PENDING = 50;

interface Pending extends AuthorizationSecrets {
  connection: Connection;
  redirectUri: string;
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
    const setup = await internals(connection).setup();
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
    const prepared = prepareAuthorization(protocolClient(setup.conn), endpoints, { redirectUri: redirect.redirectUri });
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
    const setup = await internals(connection).setup();
    const code = checkAuthorizationResponse(query, expectedResponse(setup.conn, endpoints, state));
    // Under the login lock, as `tokensmith login`: one interactive login per connection at a time.
    const locked = await withLoginLock(
      setup,
      async () => {
        const obtained = await exchangeCode({ conn: setup.conn, endpoints, fetch: setup.fetch, clock: setup.clock, requestToken: codeExchange(setup) }, pending, code, pending.redirectUri);
        await storeLogin(setup, obtained);
      },
      { mode: "try" },
    );
    if (locked.status === "busy") throw inProgress(connection.name, locked.holder);
    return connection.name;
  }

  /** One interactive login per connection at a time (SPEC §3): refuse while `tokensmith login` holds its lock. */
  private async checkNoLogin(setup: ConnectionSetup, name: string): Promise<void> {
    const result = await withLoginLock(setup, async () => {}, { mode: "try" });
    if (result.status === "busy") throw inProgress(name, result.holder);
  }

  private prune(): void {
    const now = this.now();
    for (const [state, pending] of this.pending) if (pending.expiresAt <= now) this.pending.delete(state);
    while (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
  }
}

function inProgress(name: string, holder: string | undefined) {
  return loginInProgress(name, holder, { hint: "finish or cancel that login, then authorize again" });
}

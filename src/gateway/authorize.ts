import type { ResolvedConnection } from "../config/types.js";
import { TokenSmithError } from "../errors.js";
import { checkAuthorizationResponse, type ExpectedResponse } from "../flows/callback.js";
import { validateIdToken } from "../flows/id-token.js";
import type { Connection } from "../lifecycle/connection.js";
import { mergeTokens } from "../lifecycle/merge.js";
import { storeMetadataCache } from "../lifecycle/metadata-cache.js";
import { loginLockKey, type ConnectionSetup } from "../lifecycle/runtime.js";
import type { TokenState } from "../lifecycle/state.js";
import { prepareAuthorization } from "../protocol/authorization-url.js";
import { requestToken } from "../protocol/send.js";
import type { Endpoints } from "../protocol/types.js";
import { discover, issuerMatches, resolveEndpoints } from "../providers/discovery.js";
import { redirectFor } from "./authorize-check.js";
import { GatewayError } from "./errors.js";

/**
 * Browser authorization from the dashboard (SPEC §5 `/authorize/NAME`, `/callback`): the
 * authorization code flow of `tokensmith login` with the gateway's own `/callback` as the
 * redirect URI. `state` (high-entropy, single use, short-lived) binds the callback to the
 * authorization the signed-in user started, so the callback needs no session cookie — which
 * a SameSite=Strict cookie would not carry on a redirect from the authorization server. The
 * response and ID token checks are `tokensmith login`'s own (src/flows/).
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
    await this.checkNoLogin(connection);
    const endpoints = await loginEndpoints(setup);
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
    const expected = expectedResponse(setup.conn, endpoints, state);
    const code = checkAuthorizationResponse(query, expected);
    const grant = { kind: "authorization_code" as const, code, redirectUri: pending.redirectUri, codeVerifier: pending.codeVerifier };
    const now = () => setup.clock.now();
    const { tokens, sentAt } = await requestToken(setup.conn, endpoints, grant, { fetch: setup.fetch, now });
    if (tokens.idToken) {
      const { issuer, isIssuer } = expected;
      await validateIdToken(tokens.idToken, setup.conn, endpoints, { issuer, isIssuer, nonce: pending.nonce }, { fetch: setup.fetch, now });
    }
    await setup.manager.write(setup.ctx, (current) => {
      // A new login starts a new chain: nothing of the old state but its seeds and counters.
      const base: TokenState = { v: 1, seeds: current?.seeds, tokenRequests: current?.tokenRequests };
      return mergeTokens(base, tokens, sentAt, setup.conn, undefined, 1, now());
    });
    return connection.name;
  }

  /** One interactive login per connection at a time (SPEC §3): refuse while `tokensmith login` holds its lock. */
  private async checkNoLogin(connection: Connection): Promise<void> {
    const { store, fingerprint, holder } = await connection.setup();
    const result = await store.update(loginLockKey(fingerprint), () => undefined, { mode: "try", holder });
    if (result.status === "busy") {
      throw new TokenSmithError("login_in_progress", `a login for "${connection.name}" is in progress (${result.holder ?? "another process"})`, {
        connection: connection.name,
        hint: "finish or cancel it, then try again",
      });
    }
  }

  private prune(): void {
    const now = this.now();
    for (const [state, pending] of this.pending) if (pending.expiresAt <= now) this.pending.delete(state);
    while (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
  }
}

const withoutSlash = (s: string) => s.replace(/\/$/, "");

/**
 * The endpoints a login needs. With an issuer, the (cached) metadata too: it says whether the
 * server always sends `iss`, and where its ID token keys are.
 */
async function loginEndpoints(setup: ConnectionSetup): Promise<Endpoints> {
  const { conn } = setup;
  const deps = { fetch: setup.fetch, now: () => setup.clock.now(), cache: storeMetadataCache(setup.store, setup.clock) };
  const endpoints = await resolveEndpoints(conn, deps, ["authorizationUrl", "tokenUrl"]);
  return conn.issuer || conn.discoveryUrl ? discover(conn, deps) : endpoints;
}

/** What the authorization response must say: this login's state, from this connection's issuer. */
function expectedResponse(conn: ResolvedConnection, endpoints: Endpoints, state: string): ExpectedResponse {
  const configured = !!(conn.issuer || conn.issuerTemplate);
  const discovered = endpoints.issuer;
  return {
    connection: conn.name,
    state,
    issuer: conn.issuer ?? conn.issuerTemplate ?? discovered,
    isIssuer: (iss) => (configured ? issuerMatches(conn, iss) : discovered === undefined || withoutSlash(iss) === withoutSlash(discovered)),
    issRequired: endpoints.authorizationResponseIssParameterSupported === true,
  };
}

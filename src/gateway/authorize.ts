import { TokenSmithError } from "../errors.js";
import type { Connection } from "../lifecycle/connection.js";
import { mergeTokens } from "../lifecycle/merge.js";
import { loginLockKey } from "../lifecycle/runtime.js";
import type { TokenState } from "../lifecycle/state.js";
import { prepareAuthorization } from "../protocol/authorization-url.js";
import { requestToken } from "../protocol/send.js";
import type { Endpoints } from "../protocol/types.js";
import { redirectFor } from "./authorize-check.js";
import { GatewayError } from "./errors.js";
import { validateIdToken } from "./id-token.js";

/**
 * Browser authorization from the dashboard (SPEC §5 `/authorize/NAME`, `/callback`): the
 * authorization code flow of `tokensmith login` with the gateway's own `/callback` as the
 * redirect URI. `state` (high-entropy, single use, short-lived) binds the callback to the
 * authorization the signed-in user started, so the callback needs no session cookie — which
 * a SameSite=Strict cookie would not carry on a redirect from the authorization server.
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
    const endpoints = await setup.endpoints();
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
   * Finishes an authorization from the callback's query: checks state and `iss` (RFC 9207),
   * exchanges the code, validates the ID token, stores the tokens. Returns the connection name.
   */
  async finish(query: URLSearchParams): Promise<string> {
    const state = query.get("state") ?? "";
    const pending = this.pending.get(state);
    if (!pending || pending.expiresAt <= this.now()) {
      throw new GatewayError(400, "bad_request", "this authorization response is unknown, used or expired (state does not match)", "start again from the dashboard");
    }
    this.pending.delete(state);
    const { connection, endpoints } = pending;
    const name = connection.name;
    const error = query.get("error");
    if (error) {
      const description = query.get("error_description") ?? undefined;
      throw new TokenSmithError("oauth_error", `the authorization server answered ${error}${description ? `: ${description}` : ""}`, {
        connection: name,
        error,
        errorDescription: description,
        hint: error === "access_denied" ? "the authorization was declined at the provider" : "check the connection's scopes and client settings at the provider",
      });
    }
    this.checkIssuer(name, endpoints, query.get("iss"));
    const code = query.get("code");
    if (!code) throw new TokenSmithError("oauth_error", "the authorization response carries no code", { connection: name });
    const setup = await connection.setup();
    const grant = { kind: "authorization_code" as const, code, redirectUri: pending.redirectUri, codeVerifier: pending.codeVerifier };
    const { tokens, sentAt } = await requestToken(setup.conn, endpoints, grant, { fetch: setup.fetch, now: () => setup.clock.now() });
    if (tokens.idToken) await validateIdToken(setup.conn, endpoints, tokens.idToken, { nonce: pending.nonce, fetch: setup.fetch });
    await setup.manager.write(setup.ctx, (current) => {
      // A new login starts a new chain: nothing of the old state but its seeds and counters.
      const base: TokenState = { v: 1, seeds: current?.seeds, tokenRequests: current?.tokenRequests };
      return mergeTokens(base, tokens, sentAt, setup.conn, undefined, 1, setup.clock.now());
    });
    return name;
  }

  /** RFC 9207: `iss` must be the issuer when sent, and is required when the metadata says it is sent. */
  private checkIssuer(name: string, endpoints: Endpoints, iss: string | null): void {
    if (iss === null) {
      if (endpoints.authorizationResponseIssParameterSupported) {
        throw new TokenSmithError("oauth_error", "the authorization response lacks iss, which this server always sends (RFC 9207)", {
          connection: name,
          hint: "a mix-up attack or a proxy that drops parameters; start again",
        });
      }
      return;
    }
    if (endpoints.issuer && iss !== endpoints.issuer) {
      throw new TokenSmithError("oauth_error", `the authorization response came from issuer ${iss}, not ${endpoints.issuer} (RFC 9207)`, {
        connection: name,
        hint: "a mix-up attack, or the wrong issuer configured; the code was not used",
      });
    }
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

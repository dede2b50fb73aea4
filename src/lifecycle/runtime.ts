import { hostname } from "node:os";
import type { Clock } from "../clock.js";
import { credentialsHash, fingerprint, fingerprintInput } from "../config/fingerprint.js";
import type { LoadedConfig } from "../config/load.js";
import { hasReference } from "../config/references.js";
import { protocolClientWith, type AutoMethod } from "../config/protocol-client.js";
import { describeConnection, resolveConnection, resolveStoreConfig, resolveWithoutSecrets } from "../config/resolve.js";
import type { ResolvedConnection, TokenSource } from "../config/types.js";
import { isLoopbackHttpUrl } from "../config/urls.js";
import { TokenSmithError } from "../errors.js";
import { Transport, type Route } from "../http/transport.js";
import { resolveEndpoints, type DiscoveryCache } from "../providers/discovery.js";
import { requestToken } from "../protocol/send.js";
import type { Endpoints, FetchLike, GrantRequest } from "../protocol/types.js";
import { hashSecret } from "../redact.js";
import { createStore } from "../store/index.js";
import type { Store } from "../store/types.js";
import { TokenManager, type ConnectionContext } from "./manager.js";
import { storeMetadataCache } from "./metadata-cache.js";
import { authChoice, type AuthChoice } from "./client-auth-choice.js";

/** Everything one connection needs once its settings are resolved. */
export interface ConnectionSetup {
  conn: ResolvedConnection;
  fingerprint: string;
  manager: TokenManager;
  ctx: ConnectionContext;
  /** Token, revocation, ... URLs: configured, or discovered once and cached (§2.12). */
  endpoints(): Promise<Endpoints>;
  fetch: FetchLike;
  /** The undici dispatcher for requests to a URL's origin, with the connection's proxy and TLS settings (the gateway's proxy route). */
  route(target: URL): Promise<Route>;
  /** The opened store (login lock, export/import). */
  store: Store;
  /** Discovered metadata, shared through the store (§2.12). */
  metadataCache: DiscoveryCache;
  clock: Clock;
  /** "pid@host", shown to others waiting on a lease or a login lock. */
  holder: string;
  warn(message: string): void;
  /** `client_auth: auto`: the method found for the token URL, remembered in the store (SPEC §1). */
  authChoice?: AuthChoice;
}

export interface RuntimeOptions {
  loaded: LoadedConfig;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  fetch: FetchLike;
  refreshAhead: boolean;
  store?: Store;
  /** Wraps the store once opened (the gateway's metrics). */
  observeStore?: (store: Store) => Store;
  onWarning: (message: string) => void;
}

/**
 * What a TokenSmith instance shares between its connections: the store (opened on first
 * use), one TokenManager per fingerprint, and each connection's resolved settings.
 */
export class Runtime {
  private storePromise?: Promise<Store>;
  private readonly managers = new Map<string, TokenManager>();
  private readonly setups = new Map<string, Promise<ConnectionSetup>>();
  private readonly warned = new Set<string>();
  /** Warnings of each connection's settings (the password grant's, pkce plain), shown when it is used. */
  private readonly settingsWarnings = new Map<string, string[]>();
  readonly holder = `${process.pid}@${hostname()}`;
  /** Proxy and TLS per connection (SPEC §1), on the injected or global fetch. */
  private readonly transport: Transport;

  constructor(readonly options: RuntimeOptions) {
    if (options.store) this.storePromise = Promise.resolve(options.observeStore?.(options.store) ?? options.store);
    this.transport = new Transport(options.fetch, options.env);
  }

  get clock(): Clock {
    return this.options.clock;
  }

  get fetch(): FetchLike {
    return this.options.fetch;
  }

  /** Warn once per distinct message (e.g. the password grant's RFC 9700 warning). */
  warn(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.options.onWarning(message);
  }

  store(): Promise<Store> {
    this.storePromise ??= createStore(resolveStoreConfig(this.options.loaded, this.options.env), {
      clock: this.options.clock,
      onWarning: (message: string) => this.warn(message),
    }).then((store) => this.options.observeStore?.(store) ?? store);
    return this.storePromise!;
  }

  connectionNames(): string[] {
    return this.options.loaded.connectionNames();
  }

  /**
   * A re-read config (`TokenSmith.reload`): every connection's settings are resolved again on
   * next use. The token managers stay, keyed by fingerprint, so an unchanged connection keeps
   * its state and single flight, and a changed one finds the state its new settings name. The
   * store stays open as it is (a new `store:` section needs a restart).
   */
  replaceConfig(loaded: LoadedConfig): void {
    this.options.loaded = loaded;
    this.setups.clear();
    this.settingsWarnings.clear();
  }

  /** Resolve a connection's settings (and its secrets) on first use only (SPEC §1). */
  setup(name: string): Promise<ConnectionSetup> {
    let setup = this.setups.get(name);
    if (!setup) {
      setup = this.createSetup(name);
      this.setups.set(name, setup);
      setup.catch(() => this.setups.delete(name));
    }
    return setup;
  }

  /** What a connection is (grant, provider, endpoints) without reading any reference (listings). */
  describe(name: string): ResolvedConnection {
    return describeConnection(this.options.loaded, name);
  }

  /** Settings only, without opening the store (status of every connection, `connections`). */
  resolve(name: string): ResolvedConnection {
    const { connection, warnings } = resolveConnection(this.options.loaded, name, { env: this.options.env });
    if (warnings.length) this.settingsWarnings.set(name, warnings);
    return connection;
  }

  /**
   * A connection is being used (a token, a call, a login, a test, a revoke): its settings'
   * warnings are shown, once per run; `status`, `logout` and `export` never show them.
   */
  used(name: string): void {
    for (const warning of this.settingsWarnings.get(name) ?? []) this.warn(warning);
  }

  /**
   * The setup of a connection whose state is only dropped or moved (logout, export): the full
   * one when it resolves, else one built without reading the connection's secrets, whose
   * token requests fail, so a machine without them can still log out.
   */
  async stateSetup(name: string): Promise<ConnectionSetup> {
    try {
      return await this.setup(name);
    } catch (err) {
      if (!(err instanceof TokenSmithError) || err.code !== "config_invalid") throw err;
      // Without the secrets, or not at all: the full setup's error says what is missing.
      return this.createSetup(name, false).catch(() => Promise.reject(err));
    }
  }

  /** The fingerprint (§2.1) of a connection, without reading its secrets. */
  private fingerprintOf(name: string, seen: string[] = []): string {
    const conn = this.resolveIdentity(name);
    return fingerprint(conn, this.subjectFingerprint(conn, seen));
  }

  /**
   * For a token exchange of another connection's token, that connection's fingerprint: part of
   * this one's identity (§2.1). A chain that comes back to itself could never get a token.
   */
  private subjectFingerprint(conn: ResolvedConnection, seen: string[] = []): string | undefined {
    const subject = conn.tokenExchange?.subject;
    if (!subject || !("connection" in subject)) return undefined;
    if (seen.includes(subject.connection) || subject.connection === conn.name) {
      throw new TokenSmithError("config_invalid", `connection "${conn.name}": its token exchange comes back to itself (${[conn.name, ...seen, subject.connection].join(" -> ")})`, {
        connection: conn.name,
        field: `connections.${conn.name}.subject_token.connection`,
        hint: "the subject token must come from a connection that gets its tokens some other way",
      });
    }
    return this.fingerprintOf(subject.connection, [...seen, conn.name]);
  }

  /** The tokens a token exchange gives (RFC 8693): values, or other connections' current access tokens. */
  private async exchangeTokens(conn: ResolvedConnection, grant: Extract<GrantRequest, { kind: "token_exchange" }>, signal?: AbortSignal): Promise<GrantRequest> {
    const settings = conn.tokenExchange;
    const tokenOf = async (source: TokenSource | undefined): Promise<string | undefined> => {
      if (!source) return undefined;
      if ("value" in source) return source.value;
      const other = await this.setup(source.connection);
      return (await other.manager.access(other.ctx, { signal })).accessToken;
    };
    return { ...grant, subjectToken: await tokenOf(settings?.subject), actorToken: await tokenOf(settings?.actor) };
  }

  /**
   * A connection resolved without its secrets, for its fingerprint: refused when a field of
   * the fingerprint is itself secret-named (a `token_params.key: ${env:…}`), since the state
   * found without it would be the wrong one.
   */
  private resolveIdentity(name: string): ResolvedConnection {
    const conn = resolveWithoutSecrets(this.options.loaded, name, { env: this.options.env }).connection;
    const subject = conn.tokenExchange?.subject;
    // A subject token enters the fingerprint hashed: check its text, not the hash, for a reference.
    if (hasReference(JSON.stringify(fingerprintInput(conn))) || (subject && "value" in subject && hasReference(subject.value))) {
      throw new TokenSmithError("config_invalid", `connection "${name}": its token state cannot be found without its secrets`, { connection: name });
    }
    return conn;
  }

  private async createSetup(name: string, secrets = true): Promise<ConnectionSetup> {
    const conn = secrets ? this.resolve(name) : this.resolveIdentity(name);
    const fp = fingerprint(conn, this.subjectFingerprint(conn));
    const store = await this.store();
    // Every request of this connection, the token's and the API's, goes through its transport.
    const fetch = this.transport.fetchFor(conn);
    let manager = this.managers.get(fp);
    if (!manager) {
      manager = new TokenManager(stateKey(fp), {
        store,
        clock: this.clock,
        refreshAhead: this.options.refreshAhead,
        holder: this.holder,
        onWarning: (message) => this.warn(message),
      });
      this.managers.set(fp, manager);
    }
    const metadataCache = storeMetadataCache(store, this.clock);
    let endpointsPromise: Promise<Endpoints> | undefined;
    const endpoints = (): Promise<Endpoints> => {
      if (endpointsPromise) return endpointsPromise;
      const promise = resolveEndpoints(conn, { fetch, now: () => this.clock.now(), cache: metadataCache });
      endpointsPromise = promise;
      promise.catch(() => (endpointsPromise = undefined));
      return promise;
    };
    const choice = conn.clientAuth === "auto" ? authChoice(conn, store, this.clock) : undefined;
    const ctx: ConnectionContext = {
      name,
      grant: conn.grant,
      grantType: conn.grantType,
      cache: conn.cache,
      refreshMarginMs: conn.refreshMarginMs,
      defaultTtl: conn.defaultTtl,
      timeoutMs: conn.timeoutMs,
      scopes: conn.scopes,
      scopeSeparator: conn.scopeSeparator,
      seedRefreshToken: secrets ? conn.refreshToken : undefined,
      loginCommand: loginCommandFor(name, conn),
      credentialsHash: secrets ? credentialsHash(conn) : undefined,
      requester: {
        request: async (grant, { timeoutMs, signal }) => {
          // Unreachable by design: a setup without secrets only drops or moves state.
          if (!secrets) throw new TokenSmithError("unexpected", `connection "${name}" was set up without its secrets, for its stored state only`);
          const filled = grant.kind === "token_exchange" ? await this.exchangeTokens(conn, grant, signal) : grant;
          const found = await endpoints();
          const send = (method?: AutoMethod) => requestToken(protocolClientWith(conn, method), found, filled, { fetch, now: () => this.clock.now(), timeoutMs, signal });
          return choice && found.tokenUrl ? choice.run(found.tokenUrl, send) : send();
        },
      },
    };
    return {
      conn,
      fingerprint: fp,
      manager,
      ctx,
      endpoints,
      fetch,
      route: (target) => this.transport.route(conn, target),
      store,
      metadataCache,
      clock: this.clock,
      holder: this.holder,
      warn: (message) => this.warn(message),
      authChoice: choice,
    };
  }

  /** Names of the connections whose settings give the same fingerprint as `name`'s (§2.1). */
  sharing(name: string): string[] {
    let mine: string;
    try {
      mine = this.fingerprintOf(name);
    } catch {
      return [];
    }
    return this.connectionNames().filter((other) => {
      if (other === name) return false;
      try {
        return this.fingerprintOf(other) === mine;
      } catch {
        return false;
      }
    });
  }

  async close(): Promise<void> {
    // Refreshes in flight write what they got (a rotated refresh token) before the store closes.
    await Promise.all([...this.managers.values()].map((manager) => manager.drain()));
    // A store handed in (`load({ store })`) is its owner's to close: others may share it.
    const store = this.storePromise && !this.options.store ? await this.storePromise.catch(() => undefined) : undefined;
    await Promise.all([store?.close(), this.transport.close()]);
  }
}

/** The store key of a connection's login lock: separate from the refresh lease (SPEC §3). */
export function loginLockKey(fp: string): string {
  return `login:${fp}`;
}

const STATE_KEY_PREFIX = "state:";

/** The store key of a token state. */
export function stateKey(fp: string): string {
  return `${STATE_KEY_PREFIX}${fp}`;
}

/** Used by `status` to say which states are the same without printing anything secret. */
export function stateId(fp: string): string {
  return hashSecret(fp).slice(0, 8);
}

/** The state id (as `status` shows it) of a token state's store key; undefined for other keys (login locks, metadata). */
export function stateIdOfStoreKey(key: string): string | undefined {
  return key.startsWith(STATE_KEY_PREFIX) ? stateId(key.slice(STATE_KEY_PREFIX.length)) : undefined;
}

/**
 * `tokensmith login NAME`, with `--manual` when the registered redirect URI is not a loopback
 * address this machine can listen on (the browser flow would refuse it).
 */
export function loginCommandFor(name: string, conn: Pick<ResolvedConnection, "redirectUri">): string {
  // An unparsable redirect_uri is reported where it is used.
  const loopback = !conn.redirectUri || !URL.canParse(conn.redirectUri) || isLoopbackHttpUrl(new URL(conn.redirectUri));
  return `tokensmith login ${name}${loopback ? "" : " --manual"}`;
}

export function unknownConnection(name: string, known: string[]): TokenSmithError {
  return new TokenSmithError("config_invalid", `unknown connection "${name}"`, {
    connection: name,
    field: `connections.${name}`,
    hint: known.length ? `configured connections: ${known.join(", ")}` : "the config has no connections",
  });
}

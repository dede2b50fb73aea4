import { randomBytes } from "node:crypto";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { GrantHandler } from "oidc-provider";
import { createDemoStorage } from "./adapter.js";
import { API_PATH, apiRoutes } from "./api.js";
import { DEVICE_CODE_GRANT, type DemoClients, JWT_BEARER_GRANT, PASSWORD_GRANT, TOKEN_EXCHANGE_GRANT, makeDemoClients, makeSigningKey } from "./clients.js";
import { type DevicePolling, announceInterval, approveDeviceCode, denyDeviceCode, throttleDevicePolls } from "./device.js";
import { type DemoUser, JWT_BEARER_PARAMS, PASSWORD_PARAMS, TOKEN_EXCHANGE_PARAMS, jwtBearerGrant, passwordGrant, tokenExchangeGrant } from "./grants.js";
import { sendJson } from "./http.js";
import { interactionRoutes, supplyResumeCookie } from "./interactions.js";
import { loadOidcProvider } from "./load.js";
import { providerConfiguration } from "./provider-config.js";
import { type DemoStats, countReuse, createStats, resetStats, statsMiddleware } from "./stats.js";

/**
 * The bundled authorization server (`tokensmith demo`, and every test): oidc-provider v9 with
 * a strict configuration (see provider-config.ts), the password and JWT bearer grants added,
 * its own sign-in pages, request statistics, and a protected API on the same origin.
 */

/** Options of startDemoServer; the defaults suit `tokensmith demo`, tests shorten lifetimes and set autoLogin. */
export interface DemoServerOptions {
  /** 0 (default): a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Access token lifetime, seconds (default 3600; tests use 1–2). */
  accessTokenTtl?: number;
  /** Refresh token lifetime, seconds (default 14 days). */
  refreshTokenTtl?: number;
  /** Rotate refresh tokens on every use, with reuse detection (default true). */
  rotateRefreshTokens?: boolean;
  /** Issue refresh tokens to the clients allowed them (default true); false: none, ever (the dashboard's `expiring` screenshot). */
  issueRefreshTokens?: boolean;
  /** Complete every sign-in at once as the demo user, and approve device codes on the verification URL (tests). */
  autoLogin?: boolean;
  /** Device flow polling: `interval` announced (default 5 s) and the `slow_down` step (default 5 s). */
  devicePolling?: Partial<DevicePolling>;
  /** No request log. */
  quiet?: boolean;
  /** Where request log lines go (default stderr). Lines carry method, path and status only. */
  log?: (line: string) => void;
}

/** A running demo server: its URLs, the credentials it made, its stats, and test controls. */
export interface DemoServer {
  /** The issuer identifier, e.g. http://127.0.0.1:53123 (discovery at /.well-known/...). */
  issuer: string;
  /** Same as `issuer`: the server's base URL. */
  url: string;
  /** Base URL of the protected API (also its RFC 8707 resource indicator). */
  apiUrl: string;
  /** Endpoint URLs, as discovery would give them. */
  endpoints: { authorization: string; token: string; revocation: string; introspection: string; deviceAuthorization: string; userinfo: string; jwks: string };
  clients: DemoClients;
  users: DemoUser;
  stats: DemoStats;
  resetStats(): void;
  /** Revokes one access token (as an admin would); true when it existed. */
  revokeAccessToken(token: string): Promise<boolean>;
  /** Approves a pending device authorization as the demo user (what the verification page does). */
  approveDeviceCode(userCode: string): Promise<void>;
  /** Denies a pending device authorization: the next poll gets access_denied. */
  denyDeviceCode(userCode: string): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_ACCESS_TOKEN_TTL_S = 3600;
/** oidc-provider's own default refresh token lifetime. */
const DEFAULT_REFRESH_TOKEN_TTL_S = 14 * 24 * 3600;
/** RFC 8628 §3.2: the default polling interval, and §3.5: the slow_down increment. */
const RFC_8628_INTERVAL_S = 5;
const DEMO_USERNAME = "demo";
/** Demo password length in random bytes: unguessable, short enough to type. */
const PASSWORD_BYTES = 9;

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a whole number of seconds, at least 1`);
  return value;
}

function listen(host: string, port: number, handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(handler);
  return new Promise<typeof server>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

/** Starts a demo server on loopback; `close()` stops it and drops all its state. */
export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const host = options.host ?? "127.0.0.1";
  const accessTokenTtl = positiveInteger(options.accessTokenTtl ?? DEFAULT_ACCESS_TOKEN_TTL_S, "accessTokenTtl");
  const refreshTokenTtl = positiveInteger(options.refreshTokenTtl ?? DEFAULT_REFRESH_TOKEN_TTL_S, "refreshTokenTtl");
  const polling: DevicePolling = { interval: RFC_8628_INTERVAL_S, slowDownStep: RFC_8628_INTERVAL_S, ...options.devicePolling };
  const log = options.quiet ? () => {} : (options.log ?? ((line: string) => process.stderr.write(`${line}\n`)));

  const [oidc, clients, signing] = await Promise.all([loadOidcProvider(), makeDemoClients(), makeSigningKey("demo-issuer")]);
  const user: DemoUser = { username: DEMO_USERNAME, password: randomBytes(PASSWORD_BYTES).toString("base64url") };
  const stats = createStats();
  const storage = createDemoStorage();

  let dispatch: (req: IncomingMessage, res: ServerResponse) => Promise<void> = async (_req, res) => sendJson(res, 503, { error: "temporarily_unavailable" });
  const server = await listen(host, options.port ?? 0, (req, res) => {
    res.on("finish", () => log(`${req.method} ${(req.url ?? "").split("?")[0]} ${res.statusCode}`));
    dispatch(req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, { error: "server_error" });
      else res.destroy();
    });
  });

  const { port } = server.address() as AddressInfo;
  const issuer = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const apiUrl = `${issuer}${API_PATH}`;

  // Subclassed so the built-in device_code handler can be wrapped as the constructor registers it.
  class DemoProvider extends oidc.Provider {
    override registerGrantType(name: string, handler: GrantHandler, params?: string[], dupes?: string[]) {
      const wrapped = name === DEVICE_CODE_GRANT ? throttleDevicePolls(oidc.errors, handler, polling) : handler;
      super.registerGrantType(name, wrapped, params, dupes);
    }
  }
  const provider = new DemoProvider(
    issuer,
    providerConfiguration(oidc, { clients, user, signingKey: signing.privateJwk, storage, accessTokenTtl, refreshTokenTtl, rotateRefreshTokens: options.rotateRefreshTokens ?? true, issueRefreshTokens: options.issueRefreshTokens ?? true, apiResource: apiUrl }),
  );
  const tokenEndpoint = provider.urlFor("token");
  provider.registerGrantType(PASSWORD_GRANT, passwordGrant(oidc.errors, provider, user), PASSWORD_PARAMS);
  provider.registerGrantType(JWT_BEARER_GRANT, jwtBearerGrant(oidc.errors, provider, clients, tokenEndpoint), JWT_BEARER_PARAMS);
  provider.registerGrantType(TOKEN_EXCHANGE_GRANT, tokenExchangeGrant(oidc.errors, provider), TOKEN_EXCHANGE_PARAMS);
  provider.use(statsMiddleware(stats));
  provider.use(announceInterval(polling));
  provider.on("grant.error", (_ctx: unknown, error: { error_detail?: string }) => {
    if (error?.error_detail === "refresh token already used") countReuse(stats);
  });

  const interactions = interactionRoutes({ provider, user, autoLogin: options.autoLogin ?? false });
  const api = apiRoutes({ provider, stats, apiUrl });
  const providerCallback = provider.callback();
  dispatch = async (req, res) => {
    const url = new URL(req.url ?? "/", issuer);
    if (await interactions(req, res, url)) return;
    if (await api(req, res, url)) return;
    supplyResumeCookie(req, url.pathname);
    providerCallback(req, res);
  };

  return {
    issuer,
    url: issuer,
    apiUrl,
    endpoints: {
      authorization: provider.urlFor("authorization"),
      token: tokenEndpoint,
      revocation: provider.urlFor("revocation"),
      introspection: provider.urlFor("introspection"),
      deviceAuthorization: provider.urlFor("device_authorization"),
      userinfo: provider.urlFor("userinfo"),
      jwks: provider.urlFor("jwks"),
    },
    clients,
    users: user,
    stats,
    resetStats: () => resetStats(stats),
    async revokeAccessToken(token) {
      const found = (await provider.AccessToken.find(token, { ignoreExpiration: true })) ?? (await provider.ClientCredentials.find(token, { ignoreExpiration: true }));
      await found?.destroy();
      return found !== undefined;
    },
    approveDeviceCode: (userCode) => approveDeviceCode(provider, userCode, user.username),
    denyDeviceCode: (userCode) => denyDeviceCode(provider, userCode),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

import type { Clock } from "../clock.js";
import type { ResolvedConnection } from "../config/types.js";
import type { DiscoveryCache } from "../providers/discovery.js";
import type { FetchLike } from "../protocol/types.js";
import { browserFlow, manualFlow, type OnAuthorizationUrl } from "./authorization-code.js";
import { openInBrowser } from "./browser.js";
import { DEFAULT_LOGIN_TIMEOUT_MS } from "./deadline.js";
import { deviceFlow, type DeviceProgress, type UserCodeInfo } from "./device.js";
import { loginEndpoints } from "./endpoints.js";
import type { ClientRunner, FlowContext, ObtainedTokens, TokenRequest } from "./types.js";

/**
 * Getting tokens from a person (`tokensmith login`): the browser, manual or device flow, run
 * once. The lock, the store write and the result are the lifecycle's (lifecycle/login.ts);
 * this layer only talks to the person and the authorization server.
 */

export type LoginFlow = "browser" | "manual" | "device";

/** How the library talks to a person during a login (it never prints). */
export interface FlowOptions {
  /** Show the authorization URL (browser and manual flows). */
  onAuthorizationUrl?: OnAuthorizationUrl;
  /** Show the user code and verification URL (device flow). */
  onUserCode?: (info: UserCodeInfo) => void | Promise<void>;
  /** After each device poll: for a spinner with the time left. */
  onDeviceProgress?: (progress: DeviceProgress) => void;
  /** The manual flow's input: one pasted line, the redirected URL or the bare code. */
  readPastedUrl?: () => Promise<string>;
  /** Open the browser (browser flow) or `verification_uri_complete` (device flow). Default true. */
  openBrowser?: boolean;
  /** How to open a URL; default `$BROWSER`, else the system opener. Resolves true when it did. */
  openUrl?: (url: string) => Promise<boolean>;
  /** How long the person has, ms. Default 300 000 (five minutes). */
  timeoutMs?: number;
}

/** @internal What a flow runs with: the connection's settings, transport, time, and where discovered metadata is cached. */
export interface FlowDeps {
  conn: ResolvedConnection;
  fetch: FetchLike;
  clock: Clock;
  metadataCache?: DiscoveryCache;
  warn(message: string): void;
  /** The code exchange as the connection's other token requests go (`client_auth: auto`). */
  requestToken?: TokenRequest;
  /** The device flow's requests as the connection's other requests go (`client_auth: auto`). */
  withClient?: ClientRunner;
}

/** @internal Runs the chosen flow once: the tokens the person's authorization gave. */
export async function runFlow(deps: FlowDeps, flow: LoginFlow, options: FlowOptions, signal: AbortSignal | undefined): Promise<ObtainedTokens> {
  const { conn } = deps;
  const endpoints = await loginEndpoints(conn, flow === "device" ? "device" : "authorization_code", deps);
  const context: FlowContext = { conn, endpoints, fetch: deps.fetch, clock: deps.clock, timeoutMs: options.timeoutMs ?? DEFAULT_LOGIN_TIMEOUT_MS, signal, requestToken: deps.requestToken, withClient: deps.withClient };
  const openUrl = options.openBrowser === false ? undefined : (options.openUrl ?? ((url: string) => openInBrowser(url)));
  switch (flow) {
    case "device":
      return deviceFlow({ ...context, onUserCode: options.onUserCode, onProgress: options.onDeviceProgress, openUrl });
    case "manual":
      return manualFlow({ ...context, onAuthorizationUrl: options.onAuthorizationUrl, readPastedUrl: options.readPastedUrl! });
    default:
      return browserFlow({ ...context, onAuthorizationUrl: options.onAuthorizationUrl, openUrl });
  }
}

import { protocolClient } from "../config/protocol-client.js";
import { isTransient, TokenSmithError } from "../errors.js";
import { pollDeviceToken, requestDeviceAuthorization, SLOW_DOWN_INCREMENT_MS, type DeviceAuthorization } from "../protocol/device.js";
import { excerpt } from "../redact.js";
import { loginTimeout } from "./deadline.js";
import type { ClientRunner, FlowContext, ObtainedTokens } from "./types.js";

/**
 * The device authorization grant's client side (RFC 8628 §3.3–3.5): show the user code, open
 * `verification_uri_complete` when allowed, then poll at `interval`, 5 s more after every
 * `slow_down`, until tokens, `access_denied`, `expired_token` or the login's timeout. Sleeps
 * run on the injected clock, so tests drive the cadence without waiting.
 */

/** What the person needs to approve the login on another device. */
export interface UserCodeInfo {
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  /** Seconds the code stays valid. */
  expiresIn: number;
  /** When this login gives up (code expiry or timeout, whichever is first), epoch ms on the flow's clock. */
  deadline: number;
  /** True when a browser command took `verification_uri_complete` (or the plain URI). */
  browserOpened: boolean;
}

/** After each poll: for a spinner with the time left, or a log. */
export interface DeviceProgress {
  /** `retrying`: the poll failed transiently (network, 5xx); polling goes on. */
  status: "pending" | "slow_down" | "retrying";
  polls: number;
  intervalMs: number;
  remainingMs: number;
}

/** @internal */
export interface DeviceFlowOptions extends FlowContext {
  onUserCode?: (info: UserCodeInfo) => void | Promise<void>;
  onProgress?: (progress: DeviceProgress) => void;
  /** Opens a URL in a browser (true when it did); absent for `--no-browser`. */
  openUrl?: (url: string) => Promise<boolean>;
}

const MS_PER_S = 1000;

function expired(connection: string, description?: string): TokenSmithError {
  return new TokenSmithError("login_timeout", `connection "${connection}": the device code expired before the login was approved`, {
    connection,
    error: "expired_token",
    errorDescription: description === undefined ? undefined : excerpt(description, 300),
    hint: `run \`tokensmith login ${connection} --device\` again and approve it in time`,
  });
}

function denied(connection: string, description?: string): TokenSmithError {
  const shown = description === undefined ? undefined : excerpt(description, 300);
  return new TokenSmithError("oauth_error", `connection "${connection}": the device login was denied (access_denied)${shown ? `: ${shown}` : ""}`, {
    connection,
    error: "access_denied",
    errorDescription: shown,
    hint: "the authorization was declined on the verification page; run the login again to retry",
  });
}

/** Polls until the person approved (tokens), denied, or time ran out. */
async function poll(options: DeviceFlowOptions, authorization: DeviceAuthorization, deadline: { at: number; byTimeout: boolean }): Promise<ObtainedTokens> {
  const { conn, endpoints, clock, signal } = options;
  let intervalMs = authorization.intervalMs;
  let polls = 0;
  for (;;) {
    const remaining = deadline.at - clock.now();
    if (remaining <= 0) throw deadline.byTimeout ? loginTimeout(conn.name, options.timeoutMs, "the device login was not approved", "--device") : expired(conn.name);
    await clock.sleep(Math.min(intervalMs, remaining), signal);
    if (clock.now() >= deadline.at) continue;
    polls++;
    let result;
    try {
      result = await withClient(options)((client) => pollDeviceToken(client, endpoints, authorization.deviceCode, { fetch: options.fetch, now: () => clock.now(), signal }));
    } catch (err) {
      if (!isTransient(err)) throw err;
      options.onProgress?.({ status: "retrying", polls, intervalMs, remainingMs: deadline.at - clock.now() });
      continue;
    }
    switch (result.status) {
      case "authorized":
        return { tokens: result.tokens, sentAt: result.sentAt, requests: polls };
      case "denied":
        throw denied(conn.name, result.errorDescription);
      case "expired":
        throw expired(conn.name, result.errorDescription);
      case "slow_down":
        intervalMs += SLOW_DOWN_INCREMENT_MS;
        break;
    }
    options.onProgress?.({ status: result.status, polls, intervalMs, remainingMs: deadline.at - clock.now() });
  }
}

/** @internal The device flow: request a user code, show it, poll for the tokens. */
export async function deviceFlow(options: DeviceFlowOptions): Promise<ObtainedTokens> {
  const { conn, clock } = options;
  const authorization = await withClient(options)((client) => requestDeviceAuthorization(client, options.endpoints, { fetch: options.fetch, now: () => clock.now(), signal: options.signal }));
  const started = clock.now();
  const byTimeout = options.timeoutMs < authorization.expiresInMs;
  const deadline = { at: started + Math.min(options.timeoutMs, authorization.expiresInMs), byTimeout };
  const target = authorization.verificationUriComplete ?? authorization.verificationUri;
  const browserOpened = options.openUrl ? await options.openUrl(target) : false;
  await options.onUserCode?.({
    userCode: authorization.userCode,
    verificationUri: authorization.verificationUri,
    verificationUriComplete: authorization.verificationUriComplete,
    expiresIn: Math.round(authorization.expiresInMs / MS_PER_S),
    deadline: deadline.at,
    browserOpened,
  });
  return poll(options, authorization, deadline);
}

/** The flow's client runner, or the connection's own client as configured. */
function withClient(options: Pick<FlowContext, "conn" | "withClient">): ClientRunner {
  return options.withClient ?? ((send) => send(protocolClient(options.conn)));
}

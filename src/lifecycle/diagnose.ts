import { redactedJSON, TokenSmithError, toTokenSmithError } from "../errors.js";
import { oauthErrorCause } from "../protocol/oauth-error.js";
import type { ConnectionHandle } from "./handle.js";
import { connectionStatus } from "./status.js";

/** One step of `tokensmith test`. */
export interface DiagnosisStep {
  step: "settings" | "endpoints" | "token" | "api";
  ok: boolean;
  detail: string;
}

/** What `tokensmith test` reports: what worked, what failed, the likely cause. */
export interface Diagnosis {
  connection: string;
  ok: boolean;
  steps: DiagnosisStep[];
  /** The likely cause of the first failure, in words. */
  cause: string | null;
  hint: string | null;
  /** The error of the first failure. */
  error: ReturnType<TokenSmithError["toJSON"]> | null;
}

const CODE_CAUSES: Partial<Record<TokenSmithError["code"], string>> = {
  network_error: "the authorization server could not be reached: check the URL, DNS, proxy and firewall",
  timeout: "the authorization server did not answer in time",
  invalid_response: "the token endpoint answered with something that is not a token response: check token_url (is it the token endpoint?)",
  reauthorization_required: "the stored login is no longer accepted; a person must log in again",
  config_invalid: "the connection's configuration is incomplete or wrong",
  store_error: "the token store could not be read or written",
  lock_timeout: "another process held the refresh lock for too long",
};

const NO_LOGIN_YET = "no login has been made yet: a person must log in once, after which jobs run on the refresh token";

/** Why there is no login: never made, or removed (logout, revoke, export: which and when); null for a refused one. */
async function whyNoLogin(connection: ConnectionHandle): Promise<string | null> {
  try {
    const status = await connectionStatus(connection);
    if (status.health.status === "removed") return `the login was ${status.health.summary.replace(/; a login is needed$/, "")}; a person must log in again`;
    return status.state === "none" ? NO_LOGIN_YET : null;
  } catch {
    return null;
  }
}

/**
 * A hint for the dashboard: its own buttons instead of CLI commands (the CLI's stay as they are).
 * @internal
 */
export function dashboardHint(hint: string | null): string | null {
  if (!hint) return hint;
  return hint
    .replace(/run `tokensmith login [^`]*`/g, "press Authorize on this connection's row (or run it from a terminal: `tokensmith login`)")
    .replace(/\(to ask now: `tokensmith test [^`]* --force-refresh`\)/g, "(press Test to ask again now)")
    .replace(/`tokensmith token [^`]* --force-refresh`/g, "Refresh");
}

/**
 * True unless the connection holds a valid token it cannot renew without a person: forcing a
 * request then would only refuse, so `test --force-refresh` keeps that token.
 */
async function forcible(connection: ConnectionHandle): Promise<boolean> {
  try {
    const { health } = await connectionStatus(connection);
    return health.renews_by_itself || (health.status !== "ready" && health.status !== "expiring");
  } catch {
    return true;
  }
}

/** @internal */
export async function diagnose(connection: ConnectionHandle, options: { forceRefresh?: boolean; hints?: "cli" | "dashboard" } = {}): Promise<Diagnosis> {
  const result = await diagnoseSteps(connection, options);
  if (options.hints === "dashboard") result.hint = dashboardHint(result.hint);
  return result;
}

async function diagnoseSteps(connection: ConnectionHandle, options: { forceRefresh?: boolean }): Promise<Diagnosis> {
  const { runtime } = connection;
  const steps: DiagnosisStep[] = [];
  const fail = (step: DiagnosisStep["step"], err: unknown): Diagnosis => {
    const e = toTokenSmithError(err, connection.name);
    steps.push({ step, ok: false, detail: e.message });
    return {
      connection: connection.name,
      ok: false,
      steps,
      cause: (e.error && oauthErrorCause(e.error)) || (CODE_CAUSES[e.code] ?? null),
      hint: e.hint ?? null,
      error: redactedJSON(e),
    };
  };
  let setup;
  try {
    setup = await connection.setup();
    steps.push({ step: "settings", ok: true, detail: `grant ${setup.conn.grantType ?? setup.conn.grant}, client auth ${setup.conn.clientAuth}` });
  } catch (err) {
    return fail("settings", err);
  }
  try {
    const endpoints = await setup.endpoints();
    steps.push({ step: "endpoints", ok: true, detail: `token endpoint ${endpoints.tokenUrl ?? "(none)"}` });
  } catch (err) {
    return fail("endpoints", err);
  }
  try {
    const info = await connection.token({ forceRefresh: options.forceRefresh && (await forcible(connection)) });
    const expiry = info.expiresAt ? `expires in ${Math.round((info.expiresAt.getTime() - runtime.clock.now()) / 1000)} s` : "no expiry";
    const found = await setup.authChoice?.found();
    const pin = found ? `; client_auth auto found ${found.method}, pin it with ${found.pin}` : "";
    steps.push({ step: "token", ok: true, detail: `got a ${info.tokenType} token (${expiry}${info.scope ? `, scope "${info.scope}"` : ""})${pin}` });
  } catch (err) {
    const diagnosis = fail("token", err);
    if (diagnosis.error?.code === "reauthorization_required") diagnosis.cause = (await whyNoLogin(connection)) ?? diagnosis.cause;
    return diagnosis;
  }
  if (setup.conn.testUrl) {
    try {
      const res = await connection.fetch(setup.conn.testUrl);
      await res.body?.cancel();
      if (!res.ok) {
        throw new TokenSmithError("http_error", `the API answered ${res.status} at ${setup.conn.testUrl}`, {
          status: res.status,
          url: setup.conn.testUrl,
          hint: res.status === 403 ? "the token lacks a scope or permission this API needs" : "check test_url and the token's audience",
        });
      }
      steps.push({ step: "api", ok: true, detail: `${setup.conn.testUrl} answered ${res.status}` });
    } catch (err) {
      return fail("api", err);
    }
  }
  return { connection: connection.name, ok: true, steps, cause: null, hint: null, error: null };
}

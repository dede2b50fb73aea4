import { TokenSmithError, toTokenSmithError } from "../errors.js";
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

/** True when the store holds no state at all for the connection (as opposed to a refused login). */
async function neverLoggedIn(connection: ConnectionHandle): Promise<boolean> {
  try {
    return (await connectionStatus(connection)).state === "none";
  } catch {
    return false;
  }
}

/** @internal */
export async function diagnose(connection: ConnectionHandle): Promise<Diagnosis> {
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
      error: e.toJSON(),
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
    const info = await connection.token();
    const expiry = info.expiresAt ? `expires in ${Math.round((info.expiresAt.getTime() - runtime.clock.now()) / 1000)} s` : "no expiry";
    const found = await setup.authChoice?.found();
    const pin = found ? `; client_auth auto found ${found.method}, pin it with ${found.pin}` : "";
    steps.push({ step: "token", ok: true, detail: `got a ${info.tokenType} token (${expiry}${info.scope ? `, scope "${info.scope}"` : ""})${pin}` });
  } catch (err) {
    const diagnosis = fail("token", err);
    if (diagnosis.error?.code === "reauthorization_required" && (await neverLoggedIn(connection))) diagnosis.cause = NO_LOGIN_YET;
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

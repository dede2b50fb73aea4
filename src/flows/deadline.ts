import { TokenSmithError } from "../errors.js";

/**
 * Waiting on a person (a browser redirect, a paste) for at most the login's timeout (SPEC §3,
 * default 300 s). These waits are on events outside tokensmith, so they use real timers; the
 * device flow's polling cadence runs on the injected clock instead (device.ts).
 */

/** SPEC §3: a login not finished in five minutes is given up. */
export const DEFAULT_LOGIN_TIMEOUT_MS = 300_000;
const MS_PER_S = 1000;

/** `login_timeout` (exit 3), saying what did not happen in time; `flag` is the flow's login option (`--device`). */
export function loginTimeout(connection: string, timeoutMs: number, what: string, flag?: string): TokenSmithError {
  return new TokenSmithError("login_timeout", `connection "${connection}": ${what} within ${Math.round(timeoutMs / MS_PER_S)} s; the login was given up`, {
    connection,
    hint: `run \`tokensmith login ${connection}${flag ? ` ${flag}` : ""}\` again (--timeout SECONDS allows more time)`,
  });
}

/**
 * Resolves with `promise`, or rejects with `onTimeout()` once `timeoutMs` has passed, or with
 * the signal's reason when it aborts. The promise itself is left to settle on its own.
 */
export function untilDeadline<T>(promise: Promise<T>, options: { timeoutMs: number; signal?: AbortSignal; onTimeout: () => Error }): Promise<T> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => settle(() => reject(options.onTimeout())), Math.max(0, options.timeoutMs));
    const onAbort = () => settle(() => reject(signal?.reason));
    signal?.addEventListener("abort", onAbort, { once: true });
    function settle(finish: () => void) {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      finish();
    }
    promise.then(
      (value) => settle(() => resolve(value)),
      (err: unknown) => settle(() => reject(err)),
    );
  });
}

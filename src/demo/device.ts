import type { GrantHandler, Middleware, Provider } from "oidc-provider";
import type { OidcModule } from "./load.js";

/**
 * Device authorization (RFC 8628) additions. oidc-provider v9 defines `slow_down` but never
 * sends it, and its device authorization response has no `interval` (so clients fall back to
 * 5 s); the demo adds both, so tokensmith's polling discipline is actually tested: a poll
 * sooner than the current interval gets `slow_down` and raises that device code's interval
 * (§3.5). Approval without a browser is `approveDeviceCode`, which does what the verification
 * pages do once the user has signed in.
 */

/** How fast clients may poll the token endpoint with a device code. */
export interface DevicePolling {
  /** Seconds between polls announced in the device authorization response. */
  interval: number;
  /** Seconds added to a device code's interval after each `slow_down` (RFC 8628 §3.5 says 5). */
  slowDownStep: number;
}

const MS_PER_S = 1000;
/** Forget a device code's polling record this long after its last poll (codes live 10 minutes). */
const FORGET_AFTER_MS = 15 * 60 * MS_PER_S;

/** Wraps the provider's device_code grant handler with a per-device-code poll throttle. */
export function throttleDevicePolls(
  errors: OidcModule["errors"],
  handler: GrantHandler,
  polling: DevicePolling,
  now: () => number = Date.now,
): GrantHandler {
  const polls = new Map<string, { last: number; interval: number }>();
  return async (ctx) => {
    const code = ctx.oidc.params.device_code;
    if (code) {
      const t = now();
      for (const [key, seen] of polls) if (t - seen.last > FORGET_AFTER_MS) polls.delete(key);
      const seen = polls.get(code);
      if (seen && t - seen.last < seen.interval * MS_PER_S) {
        seen.last = t;
        seen.interval += polling.slowDownStep;
        throw new errors.SlowDown();
      }
      polls.set(code, { last: t, interval: seen?.interval ?? polling.interval });
    }
    return handler(ctx);
  };
}

const HTTP_OK = 200;

/** Adds `interval` to successful device authorization responses (RFC 8628 §3.2). */
export function announceInterval(polling: DevicePolling): Middleware {
  return async (ctx, next) => {
    await next();
    if (ctx.oidc?.route === "device_authorization" && ctx.status === HTTP_OK && ctx.body && typeof ctx.body === "object") {
      (ctx.body as Record<string, unknown>).interval = polling.interval;
    }
  };
}

/** User codes are compared without their mask and case, as oidc-provider stores them. */
export function normalizeUserCode(userCode: string): string {
  return userCode.toUpperCase().replace(/\W/g, "");
}

/** Why approving or denying a user code failed; the message names no secret. */
export class DeviceCodeError extends Error {
  override name = "DeviceCodeError";
}

async function pendingCode(provider: Provider, userCode: string) {
  const code = await provider.DeviceCode.findByUserCode(normalizeUserCode(userCode), { ignoreExpiration: true });
  if (!code) throw new DeviceCodeError("unknown user code");
  if (code.isExpired) throw new DeviceCodeError("user code expired");
  if (code.accountId || code.error) throw new DeviceCodeError("user code already used");
  return code;
}

const nowS = () => Math.floor(Date.now() / MS_PER_S);

/**
 * Approves a pending device authorization as `accountId`, granting every scope and resource
 * it asked for, as the verification page would after sign-in and consent.
 */
export async function approveDeviceCode(provider: Provider, userCode: string, accountId: string): Promise<void> {
  const code = await pendingCode(provider, userCode);
  const params = (code.params ?? {}) as { scope?: string; resource?: string | string[] };
  const grant = new provider.Grant({ accountId, clientId: code.clientId as string });
  const resources = params.resource === undefined ? [] : [params.resource].flat();
  if (params.scope) {
    grant.addOIDCScope(params.scope);
    for (const resource of resources) grant.addResourceScope(resource, params.scope);
  }
  Object.assign(code, {
    accountId,
    grantId: await grant.save(),
    scope: params.scope,
    authTime: nowS(),
    ...(resources.length === 1 ? { resource: resources[0] } : resources.length > 1 ? { resource: resources } : {}),
  });
  await code.save();
}

/** Denies a pending device authorization: the next poll gets `access_denied`. */
export async function denyDeviceCode(provider: Provider, userCode: string): Promise<void> {
  const code = await pendingCode(provider, userCode);
  Object.assign(code, { error: "access_denied", errorDescription: "End-User denied the device authorization" });
  await code.save();
}

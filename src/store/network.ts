import type { Clock } from "../clock.js";
import { registerSecret } from "../redact.js";

export { TRANSIENT_ERRNO } from "../network-errors.js";

/** What the networked drivers (postgres, redis) share beyond the engine. */

/** The options every networked driver receives from its registry row. */
export interface NetworkStoreOptions {
  url: string;
  /** Current encryption key (required for networked stores). */
  key: Buffer;
  oldKeys: Buffer[];
  clock?: Clock;
  onWarning?: (message: string) => void;
}


/** `host:port/database` of a connection URL for messages; its password is registered for redaction. */
export function describeServer(url: string): string {
  try {
    const u = new URL(url);
    registerSecret(decodeURIComponent(u.password));
    const host = u.hostname || u.searchParams.get("host") || "localhost";
    return `${host}${u.port ? `:${u.port}` : ""}${u.pathname.length > 1 ? u.pathname : ""}`;
  } catch {
    return "the configured server";
  }
}

/** `LeaseBackend.hint` of a networked driver: an outage, or the URL and the user's rights. */
export const serverHint = (kind: string, where: string) => (transient: boolean) =>
  transient
    ? `check that ${kind} at ${where} is up; callers holding a valid token keep working meanwhile`
    : `check store.url (user, password, database) and what that user may do at ${where}`;

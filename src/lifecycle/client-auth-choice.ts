import type { Clock } from "../clock.js";
import { autoMethods, pinLine, type AutoMethod } from "../config/protocol-client.js";
import type { ResolvedConnection } from "../config/types.js";
import { TokenSmithError } from "../errors.js";
import { hashSecret } from "../redact.js";
import { UnreadableRecordError } from "../store/sealed.js";
import type { Store } from "../store/types.js";

/** Budget for waiting on another writer of the same record: another process's answer will do. */
const CHOICE_WRITE_WAIT_MS = 2_000;

/** What is remembered of `client_auth: auto`: the method that worked (never the secret). */
export interface AuthChoiceRecord {
  method: AutoMethod;
  at: number;
}

/** The store key of the remembered method: per token URL and client id (hashed), not per secret. */
export function authChoiceKey(tokenUrl: string, clientId: string): string {
  return `auth:${hashSecret(`${tokenUrl}\n${clientId}`)}`;
}

/** The server refused the client's authentication (RFC 6749 §5.2 `invalid_client`, or HTTP 401): the next method may work. */
function clientRefused(err: unknown): boolean {
  return err instanceof TokenSmithError && (err.error === "invalid_client" || err.status === 401);
}

export interface AuthChoice {
  /** The remembered method for a token URL, if any (read once per process, then kept). */
  remembered(tokenUrl: string): Promise<AutoMethod | undefined>;
  /** What `status` and `test` show: the method found for the token URL (the last one used when it is discovered) and the line that pins it. */
  found(tokenUrl?: string): Promise<{ method: AutoMethod; pin: string } | null>;
  /**
   * Runs `send` with the remembered method, or tries each method of `auto` in order, moving on
   * only when the client is refused; the first that works is remembered. When all are refused,
   * the first refusal is thrown (a wrong secret: one request per method, at most 3).
   */
  run<T>(tokenUrl: string, send: (method: AutoMethod) => Promise<T>): Promise<T>;
}

/** `client_auth: auto` (SPEC §1) for one connection, remembered in its store like the metadata cache. */
export function authChoice(conn: ResolvedConnection, store: Store, clock: Clock): AuthChoice {
  const known = new Map<string, AutoMethod>();
  const keyOf = (tokenUrl: string) => authChoiceKey(tokenUrl, conn.clientId ?? "");
  const remembered = async (tokenUrl: string): Promise<AutoMethod | undefined> => {
    const mine = known.get(tokenUrl);
    if (mine) return mine;
    let record: AuthChoiceRecord | undefined;
    try {
      record = (await store.get<AuthChoiceRecord>(keyOf(tokenUrl)))?.value;
    } catch (err) {
      if (!(err instanceof UnreadableRecordError)) throw err;
    }
    const method = record && autoMethods(conn).includes(record.method) ? record.method : undefined;
    if (method) known.set(tokenUrl, method);
    return method;
  };
  const remember = async (tokenUrl: string, method: AutoMethod): Promise<void> => {
    known.set(tokenUrl, method);
    await store
      .update<AuthChoiceRecord>(keyOf(tokenUrl), (current) => (current?.value.method === method ? undefined : { method, at: clock.now() }), {
        mode: "try",
        discardUnreadable: true,
        deadline: clock.now() + CHOICE_WRITE_WAIT_MS,
      })
      // Not remembering only costs the next process the same tries.
      .catch(() => undefined);
  };
  let lastUrl: string | undefined;
  return {
    remembered,
    async found(tokenUrl) {
      const url = tokenUrl ?? lastUrl;
      const method = url ? await remembered(url) : undefined;
      return method ? { method, pin: pinLine(method) } : null;
    },
    async run(tokenUrl, send) {
      lastUrl = tokenUrl;
      const pinned = await remembered(tokenUrl);
      if (pinned) return send(pinned);
      let first: unknown;
      for (const method of autoMethods(conn)) {
        try {
          const answer = await send(method);
          await remember(tokenUrl, method);
          return answer;
        } catch (err) {
          if (!clientRefused(err)) throw err;
          first ??= err;
        }
      }
      throw first;
    },
  };
}

import { TokenSmithError } from "../errors.js";
import { excerpt } from "../redact.js";

/**
 * The recent token requests of a token state (SPEC §3 `tokensmith log`, §5 `/log`): kept in the
 * state record itself, so every process's requests show whatever the store, and each is
 * written in the same fenced update as the answer it got (no extra round trip). Entries hold
 * no secret: a grant's name, a result, a duration, error codes, who asked. Pure helpers; the
 * transitions append, `attempt.ts` builds the entries.
 */

/**
 * How many entries a state keeps: enough for a day of hourly refreshes with room for a burst
 * of failures, small enough (≈6 kB) that every read and write of the record stays cheap.
 */
export const HISTORY_LIMIT = 50;
/** An OAuth `error` code is short (RFC 6749 §5.2); a longer one from a server is cut. */
const MAX_ERROR_CHARS = 64;

/** One token request (or a removal of the state), as stored. Times are epoch ms. */
export interface HistoryEntry {
  /** When the request was sent (or the state removed). */
  at: number;
  /** The connection that asked (connections may share a state). */
  connection: string;
  /** The grant sent: `refresh_token`, `client_credentials`, a custom `grant_type`, ...; absent for a removal. */
  grant?: string;
  result: "ok" | "error" | "removed";
  /** How long the request took, ms. */
  ms?: number;
  /** tokensmith's error code (`oauth_error`, `timeout`, ...), for an error; `aborted` when the request was cut short (every caller left, or the lease was lost). */
  code?: string;
  /** The OAuth `error` code the server answered, if any (never its description). */
  error?: string;
  /** The HTTP status of a failed answer, if any. */
  status?: number;
  /** Who asked: `pid@host`. */
  process: string;
  /** For a removal: logout, revoke, or export as a move. */
  reason?: "logout" | "revoked" | "moved";
}

/** Who makes a request or a removal: the connection asking and its process. */
export interface Requester {
  connection: string;
  process: string;
}

/** `history` with `entries` after it, the oldest dropped beyond `HISTORY_LIMIT`. */
export function appended(history: HistoryEntry[] | undefined, entries: HistoryEntry[] | undefined): HistoryEntry[] | undefined {
  if (!entries?.length) return history;
  const all = [...(history ?? []), ...entries];
  return all.length > HISTORY_LIMIT ? all.slice(all.length - HISTORY_LIMIT) : all;
}

/** The entry of one answered or failed token request; an error keeps codes only (SPEC §2.14). */
export function requestEntry(who: Requester, grant: string, sentAt: number, endedAt: number, failure?: unknown): HistoryEntry {
  const entry: HistoryEntry = { at: sentAt, connection: who.connection, grant, result: failure === undefined ? "ok" : "error", ms: Math.max(0, endedAt - sentAt), process: who.process };
  if (failure === undefined) return entry;
  if (!(failure instanceof TokenSmithError)) return { ...entry, code: isAbort(failure) ? "aborted" : "unexpected" };
  return {
    ...entry,
    code: failure.code,
    ...(failure.error ? { error: excerpt(failure.error, MAX_ERROR_CHARS) } : {}),
    ...(failure.status !== undefined ? { status: failure.status } : {}),
  };
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError");
}

/** The entry of a removal (logout, revoke, export as a move). */
export function removalEntry(who: Requester, reason: NonNullable<HistoryEntry["reason"]>, at: number): HistoryEntry {
  return { at, connection: who.connection, result: "removed", reason, process: who.process };
}

/** A stored history as read back: entries of another shape (a hand-edited record) are left out. */
export function readHistory(history: unknown): HistoryEntry[] {
  if (!Array.isArray(history)) return [];
  return history.filter((e): e is HistoryEntry => !!e && typeof e === "object" && typeof e.at === "number" && typeof e.result === "string");
}

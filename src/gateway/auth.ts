import * as crypto from "node:crypto";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { registerSecret } from "../redact.js";

/**
 * Who may use the gateway (SPEC §5): holders of an API key (each key optionally limited to
 * some connections) and browsers signed in to the dashboard through a one-time URL. Secrets
 * are kept only as SHA-256 digests and compared in constant time.
 */

/** 32 random bytes: 256 bits, beyond guessing, for session ids, sign-in tickets and CSRF tokens. */
const RANDOM_BYTES = 32;
/** A dashboard session lasts a working day; then sign in again with a fresh one-time URL. */
export const SESSION_TTL_MS = 12 * 3600 * 1000;
/** Sessions kept at most: each sign-in makes one, and a runaway script must not fill memory. */
const MAX_SESSIONS = 100;
/**
 * A sign-in URL is for the person who just started `serve` (or asked for one): five minutes
 * to open it (SPEC §5), so one found later in a scrollback, a log or shell history is dead.
 */
export const TICKET_TTL_MS = 5 * 60 * 1000;
/**
 * Unspent tickets kept at most (SPEC §2.19): a script minting sign-in URLs in a loop must not
 * fill memory. Beyond it the oldest is dropped; a person opens theirs within minutes.
 */
export const MAX_TICKETS = 100;

/** Who is asking, and which connections they may see (undefined: all). */
export interface Principal {
  via: "key" | "session";
  connections?: ReadonlySet<string>;
  /** The session's CSRF token (sessions only). */
  csrf?: string;
  /** Which configured key it is (keys only; its digest, never the key): its dashboard session is reused. */
  key?: string;
}

/** True when the principal may use that connection. */
export function mayUse(principal: Principal, name: string): boolean {
  return !principal.connections || principal.connections.has(name);
}

/** A fresh random secret, URL-safe, registered for redaction. */
export function randomSecret(): string {
  const value = randomBytes(RANDOM_BYTES).toString("base64url");
  registerSecret(value);
  return value;
}

/** Node's one-shot hash (20.12+): a key is checked on every request, and it costs a fraction of a Hash object. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: "buffer") => Buffer }).hash;

function digest(value: string): Buffer {
  return oneShot ? oneShot("sha256", value, "buffer") : createHash("sha256").update(value, "utf8").digest();
}

/** Constant-time equality of two secrets of any length. */
export function secretEquals(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * A key's id: its digest and the connections it may use, so a key whose `connections` change
 * at a reload is a new key — the dashboard session it opened with the old scope ends with it.
 */
function keyId(keyDigest: Buffer, connections?: ReadonlySet<string>): string {
  return connections ? `${keyDigest.toString("hex")}:${[...connections].sort().join(",")}` : keyDigest.toString("hex");
}

/** The configured (or generated) bearer keys. */
export class ApiKeys {
  private readonly keys: { digest: Buffer; connections?: ReadonlySet<string> }[];

  /** Each key's principal, made once (it is read-only). */
  private readonly principals: Principal[];

  constructor(keys: { key: string; connections?: string[] }[]) {
    this.keys = keys.map((k) => ({ digest: digest(k.key), connections: k.connections ? new Set(k.connections) : undefined }));
    this.principals = this.keys.map((k) => Object.freeze({ via: "key", connections: k.connections, key: keyId(k.digest, k.connections) }));
  }

  /** The keys' ids (`Principal.key`), to tell which key sessions outlive a reload. */
  ids(): Set<string> {
    return new Set(this.principals.map((p) => p.key!));
  }

  /** The principal for an `Authorization` header, or undefined when it carries no valid key. */
  authenticate(header: string | undefined): Principal | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
    if (!match) return undefined;
    const given = digest(match[1]);
    // Compare against every key, so the time taken does not tell which one matched.
    let found: Principal | undefined;
    for (let index = 0; index < this.keys.length; index++) {
      if (timingSafeEqual(this.keys[index].digest, given) && !found) found = this.principals[index];
    }
    return found;
  }
}

interface Session {
  csrf: string;
  connections?: ReadonlySet<string>;
  expiresAt: number;
}

/**
 * Dashboard sign-in: one-time tickets (the `/login?token=` URL `serve` prints) that each
 * open exactly one session; a session is an HttpOnly cookie plus a CSRF token for its POSTs.
 */
export class Sessions {
  /** Ticket digest (hex) → when it expires and the connections the session it opens may see (oldest first). */
  private readonly tickets = new Map<string, { expiresAt: number; connections?: ReadonlySet<string> }>();
  /** Session id digest (hex) → session. */
  private readonly sessions = new Map<string, Session>();
  /** Key id → the session `forKey` made for it. */
  private readonly keySessions = new Map<string, { id: string; csrf: string }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A new one-time sign-in ticket; it opens a session limited like `connections`. */
  issueTicket(connections?: ReadonlySet<string>): string {
    this.pruneTickets();
    while (this.tickets.size >= MAX_TICKETS) this.tickets.delete(this.tickets.keys().next().value!);
    const ticket = randomSecret();
    this.tickets.set(digest(ticket).toString("hex"), { expiresAt: this.now() + TICKET_TTL_MS, connections });
    return ticket;
  }

  /** Spend a ticket: a new session id and CSRF token, or undefined if the ticket is unknown, used or expired. */
  redeem(ticket: string): { id: string; csrf: string } | undefined {
    const key = digest(ticket).toString("hex");
    const entry = this.tickets.get(key);
    if (!entry) return undefined;
    this.tickets.delete(key);
    if (entry.expiresAt <= this.now()) return undefined;
    const { connections } = entry;
    this.prune();
    const id = randomSecret();
    const csrf = randomSecret();
    this.sessions.set(digest(id).toString("hex"), { csrf, connections, expiresAt: this.now() + SESSION_TTL_MS });
    return { id, csrf };
  }

  /**
   * The dashboard session of a key holder (`GET /` with a key): one per key, reused while it
   * lasts, so a script polling the dashboard does not crowd out people's sessions.
   */
  forKey(key: string, connections?: ReadonlySet<string>): { id: string; csrf: string } {
    const known = this.keySessions.get(key);
    if (known && this.authenticate(known.id)) return known;
    const session = this.redeem(this.issueTicket(connections))!;
    this.keySessions.set(key, session);
    return session;
  }

  /**
   * After a config reload: the dashboard sessions of keys still configured go on (so do all
   * sessions opened with a sign-in URL); those of keys taken out of `gateway.api_keys` end,
   * as the key itself no longer opens anything.
   */
  keepKeySessions(ids: ReadonlySet<string>): void {
    for (const [key, session] of this.keySessions) {
      if (ids.has(key)) continue;
      this.sessions.delete(digest(session.id).toString("hex"));
      this.keySessions.delete(key);
    }
  }

  /** The principal of a session cookie's value, or undefined if unknown or expired. */
  authenticate(id: string | undefined): Principal | undefined {
    if (!id) return undefined;
    const session = this.sessions.get(digest(id).toString("hex"));
    if (!session || session.expiresAt <= this.now()) return undefined;
    return { via: "session", connections: session.connections, csrf: session.csrf };
  }

  /** Drop expired tickets (the map is in issue order, so they are at its front). */
  private pruneTickets(): void {
    const now = this.now();
    for (const [key, entry] of this.tickets) {
      if (entry.expiresAt > now) break;
      this.tickets.delete(key);
    }
  }

  /** Drop expired sessions, then the oldest beyond MAX_SESSIONS. */
  private prune(): void {
    const now = this.now();
    for (const [key, session] of this.sessions) if (session.expiresAt <= now) this.sessions.delete(key);
    while (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
  }
}

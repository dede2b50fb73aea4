import { createHash } from "node:crypto";

/**
 * Redaction is one module used everywhere (STYLE §6, SPEC §2.14). Two functions, for two kinds
 * of text:
 * - `redact()` is for *untrusted* text — anything a server sent (error descriptions, bodies),
 *   anything read from a file or a bundle, and values interpolated into a message. It removes
 *   control characters, every registered secret in every encoding we send it, and anything
 *   shaped like a credential. Apply it where that text enters a message, not afterwards.
 * - `redactMessage()` is the safety net over tokensmith's own composed messages when they are
 *   printed or stored. It never rewrites tokensmith's words: it replaces credential shapes and
 *   registered secrets that cannot be prose (a passphrase `wrong` must not turn "wrong
 *   passphrase" into "[redacted] passphrase", which is garbled and gives the passphrase away).
 *
 * Known secret values are registered with `registerSecret()` as they are resolved or sent, so a
 * server that echoes a secret back in an error page cannot make us print it.
 */

/** Shorter values would redact ordinary words and numbers even in server text. */
const MIN_SECRET_LENGTH = 4;

/**
 * The registry is bounded (SPEC §2.19). Long-lived secrets (client secrets, passwords, keys,
 * passphrases, config references) are pinned: their number is bounded by the config. Rotating
 * values (refresh tokens, codes, verifiers: a new one every refresh, each in up to three
 * encodings) live in an LRU: a value is re-registered, and so made newest, right before every
 * request that sends it, and the server's answer is redacted as soon as it is read, so only
 * the values of requests still in flight must stay — thousands of entries and a mebibyte are
 * far more than any number of concurrent token requests needs.
 */
export const MAX_ROTATING_SECRETS = 4096;
export const MAX_ROTATING_SECRET_CHARS = 1024 * 1024;

const pinned = new Set<string>();
/** Insertion order is recency: the first key is the least recently registered. */
const rotating = new Map<string, number>();
let rotatingChars = 0;

export interface RegisterOptions {
  /** A short-lived value (refresh token, code, verifier) that may be evicted once older ones pile up. */
  rotating?: boolean;
}

/** The value as it travels: as is, percent-encoded (URLs) and form-encoded (bodies). */
function encodings(value: string): string[] {
  return [...new Set([value, encodeURIComponent(value), formEncode(value)])];
}

export function registerSecret(value: string | undefined | null, options: RegisterOptions = {}): void {
  if (typeof value !== "string" || value.length < MIN_SECRET_LENGTH) return;
  for (const encoded of encodings(value)) addSecret(encoded, options.rotating === true);
}

/**
 * Registers one exact string (an encoding computed elsewhere, e.g. a Basic header's base64)
 * without deriving further encodings from it.
 */
export function registerSecretEncoding(value: string, options: RegisterOptions = {}): void {
  if (value.length >= MIN_SECRET_LENGTH) addSecret(value, options.rotating === true);
}

function addSecret(value: string, isRotating: boolean): void {
  if (pinned.has(value)) return;
  const known = rotating.get(value);
  if (known !== undefined) {
    rotating.delete(value);
    rotatingChars -= known;
  }
  if (!isRotating) {
    pinned.add(value);
    return;
  }
  rotating.set(value, value.length);
  rotatingChars += value.length;
  // Evict the oldest; the value just added always stays, however large.
  while (rotating.size > 1 && (rotating.size > MAX_ROTATING_SECRETS || rotatingChars > MAX_ROTATING_SECRET_CHARS)) {
    const [oldest, chars] = rotating.entries().next().value as [string, number];
    rotating.delete(oldest);
    rotatingChars -= chars;
  }
}

/** The registry's size, for tests and the benchmark. */
export function secretRegistryStats(): { pinned: number; rotating: number; rotatingChars: number } {
  return { pinned: pinned.size, rotating: rotating.size, rotatingChars };
}

/**
 * C0 controls but tab and newline, DEL, C1 controls (U+0080–U+009F, which include the 8-bit
 * CSI), and the bidirectional overrides and isolates: none belongs in text from a server or a
 * file, and ESC sequences can rewrite a terminal (colours, titles, cursor moves, hyperlinks).
 */
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Text from a server or a file with its control characters removed (SPEC §2.14). */
export function stripControls(text: string): string {
  return text.replace(CONTROLS, "");
}

/**
 * `application/x-www-form-urlencoded` as URLSearchParams writes it (everything but
 * alphanumerics and `*-._` percent-encoded, spaces as `+`), without loading URLSearchParams
 * in every CLI run.
 */
function formEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+");
}

const FIELD_NAMES = "access_token|refresh_token|id_token|client_secret|password|assertion|client_assertion|code|code_verifier|device_code|token|secret|key";
/** `"name": "value"` in JSON and `name=value` in forms and URLs; prose like "password grant" is left alone. */
const JSON_FIELD = new RegExp(`("(?:${FIELD_NAMES})"\\s*:\\s*")([^"]*)`, "gi");
const FORM_FIELD = new RegExp(`(\\b(?:${FIELD_NAMES})=)([^&\\s"]+)`, "gi");
/**
 * An Authorization header's credentials. At least 8 characters: real credentials are longer,
 * and prose like "client_auth (basic or post)" or "a Bearer token" must stay readable.
 */
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/=]{8,}/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

function replaceShapes(text: string): string {
  return text.replace(JSON_FIELD, "$1[redacted]").replace(FORM_FIELD, "$1[redacted]").replace(BEARER, "$1 [redacted]").replace(JWT, "[redacted-jwt]");
}

function replaceSecrets(text: string, which: (secret: string) => boolean): string {
  let out = text;
  for (const set of [pinned, rotating.keys()]) {
    for (const secret of set) {
      if (out.includes(secret) && which(secret)) out = out.split(secret).join("[redacted]");
    }
  }
  return out;
}

/** Untrusted text (from a server, a file, a value): controls removed, secrets and credential shapes redacted. */
export function redact(text: string): string {
  return replaceShapes(replaceSecrets(stripControls(text), () => true));
}

/**
 * Words, possibly several: a human-chosen secret that tokensmith's own sentences may contain
 * ("wrong", "test", "correct horse"). Machine-made secrets (tokens, keys, base64) have digits
 * or symbols, or are longer than any word.
 */
const PROSE_LIKE = /^[\p{L}\p{M}' -]{1,23}$/u;

/**
 * tokensmith's own message, composed from its words and values already passed through
 * `redact()`, as it is printed, stored or served: controls removed, credential shapes and
 * registered secrets that cannot be prose redacted — a safety net that leaves words alone.
 */
export function redactMessage(text: string): string {
  return replaceShapes(replaceSecrets(stripControls(text), (secret) => !PROSE_LIKE.test(secret)));
}

/** A short, stable, non-reversible id for a secret value (cache keys, compare-and-invalidate). */
export function hashSecret(value: string): string {
  return createHash("sha256").update(value).digest("base64url").slice(0, 22);
}

/** Untrusted text cut to a length fit for an error message, redacted. */
export function excerpt(text: string, max = 200): string {
  const flat = redact(text).replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { TokenSmithError } from "../errors.js";
import { registerSecret } from "../redact.js";

/**
 * Record encryption at rest (SPEC §2.15), shared by the file, postgres and redis drivers.
 *
 * A sealed record is one ASCII string: `tsr1.<key id>.<iv>.<ciphertext>.<tag>` (base64url
 * parts). AES-256-GCM with a random 96-bit IV; the additional authenticated data binds the
 * format version, the key id, the record key and the generation, so a ciphertext copied to
 * another record, or replayed as another generation, fails to open.
 */
const FORMAT = "tsr1";
/** Any format tag of ours; a newer one is left alone rather than quarantined. */
const ANY_FORMAT = /^tsr\d+$/;
const KEY_BYTES = 32; // AES-256
const IV_BYTES = 12; // the GCM standard IV length (NIST SP 800-38D)
const TAG_BYTES = 16; // full-length GCM tag
/** 8 bytes of a hash: unique enough among a handful of keys, says nothing useful about a key. */
const KEY_ID_BYTES = 8;

/**
 * A record that is ours, under a key we hold, but does not open: bit rot, truncation,
 * tampering, or a ciphertext moved to another record or generation. Drivers quarantine it.
 * Any other failure of `open` (an unknown key id, a newer format) is a plain `store_error`
 * and the record must be left untouched.
 */
export class CorruptRecordError extends TokenSmithError {
  constructor(reason: string, cause?: unknown) {
    super("store_error", `stored record is corrupt: ${reason}`, { cause });
    this.name = "CorruptRecordError";
  }
}

/**
 * A record that is ours but cannot be opened with the keys at hand: an unknown key id (a lost
 * or replaced key) or a newer format. It is left untouched; `status` lists it as `unreadable`
 * and an update with `discardUnreadable` (logout --discard-unreadable) may replace it (§2.15).
 */
export class UnreadableRecordError extends TokenSmithError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super("store_error", message, options);
    this.name = "UnreadableRecordError";
  }
}

/** The same unreadable-record error with the driver's context (path, server) in front. */
export function inContext(err: TokenSmithError, prefix: string): TokenSmithError {
  const options = { hint: err.hint, cause: err };
  if (err instanceof UnreadableRecordError) return new UnreadableRecordError(`${prefix}${err.message}`, options);
  return new TokenSmithError("store_error", `${prefix}${err.message}`, options);
}

/** Encrypts and decrypts records; one per store, holding the current and earlier keys. */
export interface Sealer {
  /** Key id of the current key, for diagnostics. */
  readonly keyId: string;
  /** Encrypts `value` (any JSON value) for exactly this record key and generation. */
  seal(recordKey: string, generation: number, value: unknown): string;
  /**
   * Decrypts what `seal` made for this record key and generation. Throws `CorruptRecordError`
   * when it cannot be opened under its own key, `store_error` when the key id is unknown.
   */
  open<T = unknown>(recordKey: string, generation: number, data: string | Buffer): T;
}

export interface SealerOptions {
  key: Buffer;
  /** Earlier keys, still accepted for reading (rotation: new writes use `key`). */
  oldKeys?: Buffer[];
}

/** Key id: a domain-separated hash prefix, so the id of a key is never a hash used elsewhere. */
export function keyId(key: Buffer): string {
  return createHash("sha256").update("tokensmith store key id\0").update(key).digest().subarray(0, KEY_ID_BYTES).toString("base64url");
}

function aad(kid: string, recordKey: string, generation: number): Buffer {
  return Buffer.from(JSON.stringify([FORMAT, kid, recordKey, generation]), "utf8");
}

/** Builds the sealer for a store from its key and earlier keys (already parsed, 32 bytes each). */
export function createSealer(options: SealerOptions): Sealer {
  for (const k of [options.key, ...(options.oldKeys ?? [])]) {
    if (k.length !== KEY_BYTES) throw new TokenSmithError("config_invalid", `store encryption keys must be ${KEY_BYTES} bytes`, { field: "store.key" });
  }
  const current = { id: keyId(options.key), key: options.key };
  const keys = new Map<string, Buffer>();
  for (const k of options.oldKeys ?? []) keys.set(keyId(k), k);
  keys.set(current.id, current.key);

  return {
    keyId: current.id,
    seal(recordKey, generation, value) {
      const json = JSON.stringify(value);
      if (json === undefined) throw new TokenSmithError("store_error", "cannot store a value that is not JSON");
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", current.key, iv);
      cipher.setAAD(aad(current.id, recordKey, generation));
      const body = Buffer.concat([cipher.update(json, "utf8"), cipher.final()]);
      const parts = [FORMAT, current.id, iv.toString("base64url"), body.toString("base64url"), cipher.getAuthTag().toString("base64url")];
      return parts.join(".");
    },
    open<T>(recordKey: string, generation: number, data: string | Buffer): T {
      const text = (typeof data === "string" ? data : data.toString("utf8")).trim();
      const parts = text.split(".");
      if (ANY_FORMAT.test(parts[0]) && parts[0] !== FORMAT) {
        throw new UnreadableRecordError(`stored record has format ${parts[0]}, written by a newer tokensmith`, {
          hint: "upgrade tokensmith; the record was left untouched",
        });
      }
      if (parts.length !== 5 || parts[0] !== FORMAT) throw new CorruptRecordError("not a sealed tokensmith record");
      const [, kid, ivText, bodyText, tagText] = parts;
      const key = keys.get(kid);
      if (!key) {
        throw new UnreadableRecordError(`stored record is encrypted with an unknown key (key id ${kid})`, {
          hint: "set store.key to the key that wrote it, or list that key in store.old_keys; the record was left untouched. To give it up: tokensmith logout NAME --discard-unreadable",
        });
      }
      const iv = Buffer.from(ivText, "base64url");
      const tag = Buffer.from(tagText, "base64url");
      if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new CorruptRecordError("malformed IV or tag");
      let json: string;
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, iv);
        decipher.setAAD(aad(kid, recordKey, generation));
        decipher.setAuthTag(tag);
        json = Buffer.concat([decipher.update(Buffer.from(bodyText, "base64url")), decipher.final()]).toString("utf8");
      } catch (err) {
        throw new CorruptRecordError("it fails to decrypt under its own key (damaged, or moved from another record)", err);
      }
      try {
        return JSON.parse(json) as T;
      } catch (err) {
        throw new CorruptRecordError("its decrypted content is not JSON", err);
      }
    },
  };
}

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** The bytes of a base64 (or base64url) key, undefined when it is not base64; the length is the caller's to check. */
export function decodeKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  return BASE64.test(trimmed) ? Buffer.from(trimmed, "base64") /* accepts both alphabets */ : undefined;
}

/**
 * Parses a configured key (32 bytes, base64 or base64url). Errors name the config field and
 * never the value; the value is registered for redaction so it cannot leak later either.
 */
export function parseKey(text: string, field = "store.key"): Buffer {
  const trimmed = text.trim();
  registerSecret(trimmed);
  const bytes = decodeKey(trimmed);
  if (!bytes || bytes.length !== KEY_BYTES) {
    throw new TokenSmithError("config_invalid", `${field} must be ${KEY_BYTES} random bytes in base64${bytes ? ` (it decodes to ${bytes.length} bytes)` : " (it is not base64)"}`, {
      field,
      hint: "generate one with: openssl rand -base64 32",
    });
  }
  return bytes;
}

/**
 * Records as plain JSON, for a store given no key (memory: nothing leaves the process). Text
 * that is not JSON is corrupt, and quarantined like a sealed record that fails to open.
 */
export const plainCodec: Pick<Sealer, "seal" | "open"> = {
  seal(_recordKey, _generation, value) {
    const json = JSON.stringify(value);
    if (json === undefined) throw new TokenSmithError("store_error", "cannot store a value that is not JSON");
    return json;
  },
  open<T>(_recordKey: string, _generation: number, data: string | Buffer): T {
    try {
      return JSON.parse(String(data)) as T;
    } catch (err) {
      throw new CorruptRecordError("its content is not JSON", err);
    }
  },
};

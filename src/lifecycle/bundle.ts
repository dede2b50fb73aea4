import { createCipheriv, createDecipheriv, randomBytes, scrypt, type ScryptOptions } from "node:crypto";
import { TokenSmithError } from "../errors.js";
import { redact } from "../redact.js";

/**
 * The export bundle (SPEC §3): a token state sealed with a passphrase, to carry a login to
 * another machine. JSON text, readable enough to see what it is and for which connection,
 * with the state itself encrypted: AES-256-GCM under a scrypt-derived key. The additional
 * authenticated data binds the format, its version and the state's fingerprint, so a bundle
 * relabelled for another token state (or another version) fails to open.
 */

export const BUNDLE_FORMAT = "tokensmith-bundle";
export const BUNDLE_VERSION = 1;

/**
 * scrypt cost: OWASP's recommendation for scrypt (N=2^17, r=8, p=1), 128 MiB and about half a
 * second, paid once per export or import. A bundle may travel by mail or chat, so an offline
 * guesser gets it too: the passphrase is the only secret and this is what guessing costs.
 */
export const DEFAULT_SCRYPT = { N: 2 ** 17, r: 8, p: 1 } as const;
/** The most memory an import lets a bundle's scrypt parameters claim (128·N·r bytes): no bundle can exhaust memory. */
const MAX_SCRYPT_MEMORY = 512 * 1024 * 1024;
/** Below this cost a bundle was not made by tokensmith; refusing it keeps every accepted bundle expensive to guess. */
const MIN_SCRYPT_N = 2 ** 10;
const SALT_BYTES = 16;
const KEY_BYTES = 32; // AES-256
const IV_BYTES = 12; // the GCM standard IV length (NIST SP 800-38D)
const TAG_BYTES = 16; // full-length GCM tag
/** A connection name longer than this in a bundle is cut when shown: names are short, a hostile file need not be. */
const MAX_SHOWN_NAME = 100;

/** The bundle as written: everything but `ciphertext` is readable, nothing secret is. */
export interface Bundle {
  format: typeof BUNDLE_FORMAT;
  version: number;
  /** The token state's key (SPEC §2.1): a hash, not secret; import refuses another one. */
  fingerprint: string;
  /** The connection's name on the machine that exported it, for messages only. */
  connection: string;
  kdf: { name: "scrypt"; N: number; r: number; p: number; salt: string };
  iv: string;
  ciphertext: string;
  tag: string;
}

export interface SealOptions {
  passphrase: string;
  fingerprint: string;
  connection: string;
  /** scrypt cost N (a power of two); default DEFAULT_SCRYPT.N. Tests lower it to run fast. */
  scryptN?: number;
}

/** Derives the bundle key; async, so half a second of scrypt does not block the event loop. */
function deriveKey(passphrase: string, kdf: Bundle["kdf"]): Promise<Buffer> {
  const options: ScryptOptions = { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 128 * kdf.N * kdf.r + 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scrypt(passphrase.normalize("NFC"), Buffer.from(kdf.salt, "base64url"), KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

function aad(version: number, fingerprint: string): Buffer {
  return Buffer.from(JSON.stringify([BUNDLE_FORMAT, version, fingerprint]), "utf8");
}

/**
 * The shortest passphrase an export accepts unless told a weak one is fine. scrypt makes each
 * guess cost about half a second of one core, but a short passphrase is nearly always a word,
 * a name or a pattern from a list of a few million candidates: a day or two of one machine,
 * offline, for anyone who gets the file. Length is what can be checked without a word list,
 * and 12 characters pushes people to a phrase rather than a word (NIST SP 800-63B asks 15 of
 * a password that is the only factor).
 */
export const MIN_PASSPHRASE_LENGTH = 12;

/**
 * Refuses a passphrase too short to protect a refresh token (`usage_error`) unless
 * `allowWeak`; `override` says how to allow it (the CLI flag or the library option).
 */
export function checkPassphraseStrength(passphrase: string, options: { allowWeak?: boolean; override: string }): void {
  if (options.allowWeak || [...passphrase.normalize("NFC")].length >= MIN_PASSPHRASE_LENGTH) return;
  throw new TokenSmithError(
    "usage_error",
    `the passphrase is shorter than ${MIN_PASSPHRASE_LENGTH} characters: the bundle holds a refresh token, and scrypt only slows each guess down, so a short passphrase still falls to anyone who gets the file`,
    { hint: `use at least ${MIN_PASSPHRASE_LENGTH} characters (four or five random words are easy to type), or accept the risk with ${options.override}` },
  );
}

/** Refuses an empty passphrase: the bundle holds a refresh token. */
export function checkPassphrase(passphrase: unknown): asserts passphrase is string {
  if (typeof passphrase !== "string" || passphrase.length === 0) {
    throw new TokenSmithError("usage_error", "a passphrase is needed to encrypt or decrypt the bundle", {
      hint: "set $TOKENSMITH_PASSPHRASE, or run the command on a terminal to be asked for one",
    });
  }
}

/**
 * Derives the key for a new bundle (the slow part) and returns the sealer: encrypting then
 * takes microseconds, so an export can seal inside a store update without holding the lease
 * through half a second of scrypt.
 */
export async function bundleSealer(options: SealOptions): Promise<(payload: unknown) => Bundle> {
  checkPassphrase(options.passphrase);
  const kdf: Bundle["kdf"] = { name: "scrypt", ...DEFAULT_SCRYPT, N: options.scryptN ?? DEFAULT_SCRYPT.N, salt: randomBytes(SALT_BYTES).toString("base64url") };
  checkKdf(kdf);
  const key = await deriveKey(options.passphrase, kdf);
  return (payload) => {
    // A fresh IV per bundle: one key (one salt) may seal more than once if an update is retried.
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(aad(BUNDLE_VERSION, options.fingerprint));
    const body = Buffer.concat([cipher.update(JSON.stringify(payload), "utf8"), cipher.final()]);
    return {
      format: BUNDLE_FORMAT,
      version: BUNDLE_VERSION,
      fingerprint: options.fingerprint,
      connection: options.connection,
      kdf,
      iv: iv.toString("base64url"),
      ciphertext: body.toString("base64url"),
      tag: cipher.getAuthTag().toString("base64url"),
    };
  };
}

const notABundle = (why: string) =>
  new TokenSmithError("usage_error", `this is not a tokensmith bundle (${why})`, { hint: "pass the file that `tokensmith export` wrote, unchanged" });

/** Reads a bundle's readable part, checking its shape; the ciphertext is not touched. */
export function parseBundle(input: string | object): Bundle {
  let value: unknown = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch {
      throw notABundle("not JSON");
    }
  }
  const b = value as Partial<Bundle> | null;
  if (!b || typeof b !== "object" || b.format !== BUNDLE_FORMAT) throw notABundle(`no "format": "${BUNDLE_FORMAT}"`);
  if (typeof b.version !== "number") throw notABundle("no version");
  if (b.version > BUNDLE_VERSION) {
    throw new TokenSmithError("not_supported", `the bundle has version ${b.version}, written by a newer tokensmith (this one reads version ${BUNDLE_VERSION})`, {
      hint: "upgrade tokensmith on this machine, then import again",
    });
  }
  if (b.version !== BUNDLE_VERSION) throw notABundle(`unknown version ${b.version}`);
  const strings = ["fingerprint", "connection", "iv", "ciphertext", "tag"] as const;
  for (const field of strings) if (typeof b[field] !== "string") throw notABundle(`"${field}" missing`);
  const kdf = b.kdf;
  if (!kdf || kdf.name !== "scrypt" || typeof kdf.salt !== "string") throw notABundle("unknown key derivation");
  checkKdf(kdf);
  // The connection name is shown in messages: a file's text, so redacted and without controls (§2.14).
  return { ...(b as Bundle), connection: redact(b.connection as string).slice(0, MAX_SHOWN_NAME) };
}

/** Sane scrypt parameters only: a power-of-two N, within the memory cap. */
function checkKdf(kdf: Bundle["kdf"]): void {
  const integer = (n: unknown) => typeof n === "number" && Number.isSafeInteger(n) && n >= 1;
  const powerOfTwo = integer(kdf.N) && (kdf.N & (kdf.N - 1)) === 0;
  if (!powerOfTwo || kdf.N < MIN_SCRYPT_N || !integer(kdf.r) || !integer(kdf.p) || 128 * kdf.N * kdf.r > MAX_SCRYPT_MEMORY || kdf.p > 16) {
    throw notABundle("scrypt parameters out of range");
  }
}

/**
 * Decrypts a parsed bundle. A wrong passphrase and a modified bundle look the same to GCM,
 * and the message says both, never which bytes differed.
 */
export async function openBundle<T>(bundle: Bundle, passphrase: string): Promise<T> {
  checkPassphrase(passphrase);
  const key = await deriveKey(passphrase, bundle.kdf);
  const iv = Buffer.from(bundle.iv, "base64url");
  const tag = Buffer.from(bundle.tag, "base64url");
  const refused = new TokenSmithError("usage_error", `the bundle of "${bundle.connection}" could not be decrypted: wrong passphrase, or the bundle was modified`, {
    hint: "check the passphrase ($TOKENSMITH_PASSPHRASE or the one typed at export) and that the file is the one export wrote",
  });
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw refused;
  let json: string;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, iv);
    decipher.setAAD(aad(bundle.version, bundle.fingerprint));
    decipher.setAuthTag(tag);
    json = Buffer.concat([decipher.update(Buffer.from(bundle.ciphertext, "base64url")), decipher.final()]).toString("utf8");
  } catch {
    throw refused;
  }
  return JSON.parse(json) as T;
}

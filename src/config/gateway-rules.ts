/**
 * What makes a gateway key, a `gateway.hosts` name or a `proxy:` value usable: shared by the schema (at load) and
 * the resolved gateway section (at serve start, once a reference is read), and kept apart from
 * the schema so a cached CLI run never loads zod for it.
 */

/** Gateway keys shorter than this are guessable. */
export const MIN_API_KEY_LENGTH = 16;
/** What to do about a gateway key that cannot work. */
export const API_KEY_HINT = "generate one with: openssl rand -base64 24";
/**
 * Visible ASCII only: the gateway reads a key as the one word after `Bearer` in an
 * Authorization header, so a key with a space, a tab or a line break in it (or around it)
 * can never match, and header bytes beyond ASCII arrive re-decoded, differently per client.
 */
const API_KEY_CHARACTERS = /^[\x21-\x7e]*$/;
/** Why a gateway key (its resolved value) can never authenticate or is guessable; undefined when it is fine. */
export function apiKeyProblem(key: string): string | undefined {
  if (!API_KEY_CHARACTERS.test(key)) return "must be visible ASCII characters without spaces: a key with whitespace (or other characters) in it can never match an Authorization header";
  if (key.length < MIN_API_KEY_LENGTH) return `too short: use at least ${MIN_API_KEY_LENGTH} random characters`;
  return undefined;
}
/** A DNS name (letters, digits, hyphens; dot-separated labels of at most 63), an IPv4 or a (bracketed) IPv6 literal. */
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$|^\[?[0-9a-f]*:[0-9a-f:.]*\]?$/i;
/** Why a `gateway.hosts` entry is not a host name; undefined when it is one. */
export function hostNameProblem(name: string): string | undefined {
  return HOST_NAME.test(name) ? undefined : "must be a host name or IP address, without scheme, port, path or wildcard (e.g. gateway.example.com)";
}

/** `proxy:`: `none`, or an http(s) proxy URL; a reference's value is checked once resolved. */
export function proxyProblem(value: string): string | undefined {
  if (value === "none") return undefined;
  if (!URL.canParse(value)) return "must be an http:// or https:// proxy URL, or none";
  const protocol = new URL(value).protocol;
  return protocol === "http:" || protocol === "https:" ? undefined : `must be an http:// or https:// proxy URL, or none (got ${protocol})`;
}

import { randomBytes } from "node:crypto";
import { chmod, mkdir, rename, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { TokenSmithError } from "../errors.js";
import { readOwnFile, readOwnFileSync } from "./own-file.js";
import { xdgStateHome } from "./paths.js";

/**
 * Trust for configs found implicitly in the working folder (SPEC §1 Trust), as direnv does: a
 * cloned repository's tokensmith.yaml could otherwise send `${file:~/.aws/credentials}` to a
 * token URL of its choosing. `tokensmith trust` records the file's absolute path and the
 * SHA-256 of its content; any change makes it untrusted again. The list lives in the state
 * folder ($XDG_STATE_HOME/tokensmith), never where a config says (a config cannot vouch for
 * itself), in an owner-only file written by rename.
 */

/** The trust list's file name in the state folder. */
const TRUST_FILE = "trusted-configs.json";
/** Owner-only: another user who could add an entry could make any config trusted. */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const VERSION = 1;

interface TrustList {
  version: typeof VERSION;
  /** Absolute config path → SHA-256 (hex) of the content that was trusted, and when. */
  configs: Record<string, { sha256: string; trusted_at: string }>;
}

/** @internal Where the trust list lives for this environment. */
export function trustListPath(env: NodeJS.ProcessEnv): string {
  return join(xdgStateHome(env), "tokensmith", TRUST_FILE);
}

async function readList(env: NodeJS.ProcessEnv): Promise<TrustList> {
  const path = trustListPath(env);
  let text: string;
  try {
    text = (await readOwnFile(path, "trust list")).text;
  } catch (err) {
    return emptyOrThrow(path, err);
  }
  return parseList(path, text);
}

/** A trust list that does not exist is empty; one that cannot be read is `config_untrusted`. */
function emptyOrThrow(path: string, err: unknown): TrustList {
  if (err instanceof TokenSmithError) throw err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return { version: VERSION, configs: {} };
  throw new TokenSmithError("config_untrusted", `cannot read the trust list ${path} (${code})`, { hint: "it must be a file of yours", cause: err });
}

function parseList(path: string, text: string): TrustList {
  try {
    const list = JSON.parse(text) as Partial<TrustList>;
    if (list.version === VERSION && typeof list.configs === "object" && list.configs !== null) return { version: VERSION, configs: list.configs };
  } catch {
    // reported below
  }
  throw new TokenSmithError("config_untrusted", `the trust list ${path} is not readable`, {
    hint: `delete it and trust your configs again (tokensmith trust)`,
  });
}

async function writeList(list: TrustList, env: NodeJS.ProcessEnv): Promise<void> {
  const path = trustListPath(env);
  await mkdir(join(path, ".."), { recursive: true, mode: DIR_MODE });
  const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temp, `${JSON.stringify(list, null, 2)}\n`, { mode: FILE_MODE });
  await chmod(temp, FILE_MODE);
  await rename(temp, path);
}

/** @internal True when `path` (absolute) was trusted with exactly this content. */
export async function isTrusted(path: string, sha256: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  return trustedIn(await readList(env), path, sha256);
}

/** @internal {@link isTrusted}, synchronously (the CLI's `token` fast path); throws what it would. */
export function isTrustedSync(path: string, sha256: string, env: NodeJS.ProcessEnv): boolean {
  const listPath = trustListPath(env);
  let text: string;
  try {
    text = readOwnFileSync(listPath, "trust list").text;
  } catch (err) {
    return trustedIn(emptyOrThrow(listPath, err), path, sha256);
  }
  return trustedIn(parseList(listPath, text), path, sha256);
}

const trustedIn = ({ configs }: TrustList, path: string, sha256: string) => Object.hasOwn(configs, path) && configs[path].sha256 === sha256;

/** @internal The `config_untrusted` error for a working-folder config not trusted (or changed since). */
export async function untrustedError(path: string, env: NodeJS.ProcessEnv): Promise<TokenSmithError> {
  const known = Object.hasOwn((await readList(env)).configs, path);
  const problem = known ? "has changed since it was trusted" : "is not trusted yet";
  return new TokenSmithError("config_untrusted", `the config ${path} found in the working folder ${problem}`, {
    hint: "read it (it decides where your secrets are sent), then run `tokensmith trust`; or name it with --config PATH",
  });
}

/** Result of {@link trustConfig} and {@link forgetConfig}. */
export interface TrustResult {
  path: string;
  trusted: boolean;
  /** SHA-256 of the content trusted (trustConfig only). */
  sha256?: string;
  /** forgetConfig: whether the path was on the list. */
  wasTrusted?: boolean;
}

/**
 * Trusts the config file at `path` (made absolute) with its current content. Refused like any
 * config when another user owns it or may write it. `env` locates the state folder.
 */
export async function trustConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<TrustResult> {
  const path = resolve(file);
  const { sha256 } = await readOwnFile(path, "config file").catch((cause: unknown) => {
    if (cause instanceof TokenSmithError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    throw new TokenSmithError("config_invalid", `cannot read config file ${path} (${code})`, { hint: "name a config file you can read", cause });
  });
  const list = await readList(env);
  list.configs[path] = { sha256, trusted_at: new Date().toISOString() };
  await writeList(list, env);
  return { path, trusted: true, sha256 };
}

/** Forgets the trust given to `path` (made absolute); the file need not exist any more. */
export async function forgetConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<TrustResult> {
  const path = resolve(file);
  const list = await readList(env);
  const wasTrusted = Object.hasOwn(list.configs, path);
  if (wasTrusted) {
    delete list.configs[path];
    await writeList(list, env);
  }
  return { path, trusted: false, wasTrusted };
}

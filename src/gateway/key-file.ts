import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { xdgStateHome } from "../config/paths.js";
import { TokenSmithError } from "../errors.js";
import { registerSecret } from "../redact.js";
import { checkPrivateDir, ensureDir, linkExclusive, readPrivateFile, syncDir, writeTemp } from "../fs-private.js";
import type { StoreConfig } from "../index.js";

/**
 * The gateway is never open (SPEC §5): with no `api_keys` configured it uses a random key
 * kept in a 0600 file beside the store. The file outlives the process, so scripts that read
 * it keep working across restarts; delete it to rotate the key. It is created the way the
 * store's key file is: written whole to a temp file, then linked exclusively to its name.
 * A key planted by someone else is never used (§2.15): the folder must be the user's and
 * writable by nobody else, and the file a regular file of the user's, readable by nobody else.
 */

/** File name of the generated key. */
export const GATEWAY_KEY_FILE = "gateway.key";
/** 32 random bytes: 256 bits. */
const KEY_BYTES = 32;
/** Shorter content is not a key this module wrote (43 base64url characters). */
const MIN_KEY_LENGTH = 32;

/** Where the generated key lives: the file store's folder, else `$XDG_STATE_HOME/tokensmith`. */
export function gatewayKeyPath(store: StoreConfig, env: NodeJS.ProcessEnv): string {
  const dir = store.type === "file" && store.dir ? store.dir : join(xdgStateHome(env), "tokensmith");
  return join(dir, GATEWAY_KEY_FILE);
}

function keyFileError(action: string, path: string, cause: unknown): TokenSmithError {
  if (cause instanceof TokenSmithError) return cause;
  return new TokenSmithError("store_error", `gateway: could not ${action} the key file ${path} (${(cause as NodeJS.ErrnoException).code ?? "error"})`, {
    hint: "check the owner and permissions of that folder, or configure gateway.api_keys",
    cause,
  });
}

/** The key in the file at `path`, created (0600, folder 0700) if absent. */
export async function loadOrCreateGatewayKey(path: string): Promise<string> {
  const folder = dirname(path);
  try {
    await ensureDir(folder);
    await checkPrivateDir(folder, "gateway key folder");
    const temp = await writeTemp(folder, `${randomBytes(KEY_BYTES).toString("base64url")}\n`);
    if (await linkExclusive(temp, path)) await syncDir(folder);
  } catch (err) {
    throw keyFileError("create", path, err);
  }
  let key: string;
  try {
    key = (await readPrivateFile(path, "gateway key file")).trim();
  } catch (err) {
    throw keyFileError("read", path, err);
  }
  if (key.length < MIN_KEY_LENGTH || /\s/.test(key)) {
    throw new TokenSmithError("store_error", `gateway: the key file ${path} does not hold a key`, {
      hint: "delete it; the gateway writes a new one at its next start",
    });
  }
  registerSecret(key);
  return key;
}

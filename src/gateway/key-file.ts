import { randomBytes } from "node:crypto";
import { lstat, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { xdgStateHome } from "../config/paths.js";
import { TokenSmithError } from "../errors.js";
import { registerSecret } from "../redact.js";
import { ensureDir, FILE_MODE, linkExclusive, syncDir, writeTemp } from "../store/file-io.js";
import type { StoreConfig } from "../store/types.js";

/**
 * The gateway is never open (SPEC §5): with no `api_keys` configured it uses a random key
 * kept in a 0600 file beside the store. The file outlives the process, so scripts that read
 * it keep working across restarts; delete it to rotate the key. It is created the way the
 * store's key file is: written whole to a temp file, then linked exclusively to its name.
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
  return new TokenSmithError("store_error", `gateway: could not ${action} the key file ${path} (${(cause as NodeJS.ErrnoException).code ?? "error"})`, {
    hint: "check the owner and permissions of that folder, or configure gateway.api_keys",
    cause,
  });
}

/** The key in the file at `path`, created (0600, folder 0700) if absent. */
export async function loadOrCreateGatewayKey(path: string, options: { onWarning?: (message: string) => void } = {}): Promise<string> {
  const folder = dirname(path);
  try {
    await ensureDir(folder);
    const temp = await writeTemp(folder, `${randomBytes(KEY_BYTES).toString("base64url")}\n`);
    if (await linkExclusive(temp, path)) await syncDir(folder);
  } catch (err) {
    throw keyFileError("create", path, err);
  }
  let key: string;
  try {
    key = (await readFile(path, "utf8")).trim();
    const st = await lstat(path);
    if ((st.mode & 0o077) !== 0) options.onWarning?.(`the gateway key file ${path} is readable by other users; run: chmod ${FILE_MODE.toString(8)} ${path}`);
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

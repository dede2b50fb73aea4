import { createHash } from "node:crypto";
import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats } from "node:fs";
import { open } from "node:fs/promises";
import { TokenSmithError } from "../errors.js";

/**
 * Reading a file tokensmith acts on (a config, the trust list) only when no one else could
 * have written it (SPEC §1 Trust): owned by the current user, not writable by group or others,
 * and a regular file. A config decides where secrets are sent, so a file another user can
 * change is refused wherever it was found, explicit paths included.
 */

/** Group- and other-write permission bits. */
const WRITABLE_BY_OTHERS = 0o022;

/** A file's bytes and their SHA-256, read through one descriptor (no swap between check and read). */
export interface OwnFile {
  text: string;
  sha256: string;
}

/** SHA-256 of a file's content, hex: what `tokensmith trust` records. */
export function contentHash(bytes: Buffer | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * The file at `path`, refused with `config_untrusted` when another user owns it or group or
 * others may write it, and with `config_invalid` when it is not a regular file (a FIFO would
 * block the read forever). Open errors (ENOENT, EACCES) are thrown as they are. `what` names
 * the file in messages ("config file", "trust list").
 */
export async function readOwnFile(path: string, what: string): Promise<OwnFile> {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; for regular files it changes nothing.
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    checkOwnFile(path, what, await handle.stat());
    const bytes = await handle.readFile();
    return { text: bytes.toString("utf8"), sha256: contentHash(bytes) };
  } finally {
    await handle.close();
  }
}

/** {@link readOwnFile}, synchronously (the CLI's `token` fast path): the same checks, the same errors. */
export function readOwnFileSync(path: string, what: string): OwnFile {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    checkOwnFile(path, what, fstatSync(fd));
    const bytes = readFileSync(fd);
    return { text: bytes.toString("utf8"), sha256: contentHash(bytes) };
  } finally {
    closeSync(fd);
  }
}

function checkOwnFile(path: string, what: string, stat: Stats): void {
  if (!stat.isFile()) {
    throw new TokenSmithError("config_invalid", `${what} ${path} is not a regular file`, { hint: "point to a plain file" });
  }
  checkOwnership(path, what, stat.uid, stat.mode);
}

/** Windows has no uid and no meaningful mode bits: its ACLs are the OS's to enforce. */
function checkOwnership(path: string, what: string, uid: number, mode: number): void {
  if (process.platform === "win32" || typeof process.getuid !== "function") return;
  const me = process.getuid();
  if (uid !== me) {
    throw new TokenSmithError("config_untrusted", `${what} ${path} is owned by another user (uid ${uid}), who could change where your secrets go`, {
      hint: `use a copy you own (cp ${path} ./my-tokensmith.yaml), or take it over: chown ${me} ${path}`,
    });
  }
  if ((mode & WRITABLE_BY_OTHERS) !== 0) {
    throw new TokenSmithError("config_untrusted", `${what} ${path} is writable by group or others (mode ${(mode & 0o777).toString(8)}), who could change where your secrets go`, {
      hint: `chmod go-w ${path}`,
    });
  }
}

import { readdirSync, statSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { absolutePath, xdgConfigHome } from "../config/paths.js";
import { CWD_NAMES, presentIn, XDG_NAMES } from "../config/locate.js";
import { readOwnFileSync } from "../config/own-file.js";
import { isTrustedSync } from "../config/trust.js";
import { privateDirProblem, readPrivateFileSync } from "../fs-private.js";
import { isDue, isUsable, live, type TokenState } from "../lifecycle/state.js";
import { toTokenInfo } from "../lifecycle/token-info.js";
import { tokenJson } from "../lifecycle/token-json.js";
import { recordTag } from "../store/backend.js";
import { genPath, highest, KEY_FILE_NAME, seriesOf } from "../store/file-io.js";
import { createSealer, decodeKey } from "../store/sealed.js";
import { inputsHold, readRoute } from "./token-route.js";

/**
 * The fast path of `tokensmith token NAME` and `tokensmith header NAME` (docs/decisions.md,
 * "the token fast path"): its own small bundle (dist/cli-bundle/fast.cjs), tried by the binary
 * before the CLI is loaded. It answers only the common case — a valid token already in the
 * default file store, for a connection that the normal path served before (its token route,
 * src/cli/token-route.ts) — and prints exactly what the normal path would print. For anything
 * else (other flags, no route, a changed config or input, an untrusted file, a token expired,
 * short of `--min-ttl` or inside its refresh margin, any error) it returns false having
 * printed nothing, and the normal path runs: every error a user sees is the normal path's.
 *
 * Its checks are the normal path's, never weaker: the config file's owner and mode and, for
 * one found in the working folder, its trust (SPEC §1); the store folder's owner and mode, and
 * the key and record files opened O_NOFOLLOW, regular, owned and private (§2.15); the record
 * opened with its AAD (key id, record key, generation).
 */

/** What the arguments ask, when the fast path can answer it. */
interface Ask {
  command: "token" | "header";
  name: string;
  config?: string;
  json: boolean;
  minTtl?: number;
}

const VALUE_FLAGS = new Set(["--config", "--min-ttl"]);
const SWITCHES = new Set(["--json", "--quiet"]);

/**
 * `token`/`header` with one name and only `--config`, `--json`, `--quiet`, `--min-ttl`, each at
 * most once, anywhere; undefined for anything else (`--verbose`, `--force-refresh`, help, typos).
 */
export function parseAsk(argv: readonly string[]): Ask | undefined {
  const seen = new Map<string, string | true>();
  const operands: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("-")) {
      operands.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (seen.has(flag)) return undefined;
    if (SWITCHES.has(flag) && eq < 0) seen.set(flag, true);
    else if (VALUE_FLAGS.has(flag)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || value === "" || value.startsWith("-")) return undefined;
      seen.set(flag, value);
    } else return undefined;
  }
  const [command, name, ...rest] = operands;
  if ((command !== "token" && command !== "header") || !name || rest.length) return undefined;
  const minTtl = seen.get("--min-ttl");
  // The normal path's parse (`Number`), restricted to plain decimals.
  if (minTtl !== undefined && !/^\d{1,9}(\.\d{1,9})?$/.test(minTtl as string)) return undefined;
  const config = seen.get("--config");
  return { command, name, config: config as string | undefined, json: seen.has("--json"), minTtl: minTtl === undefined ? undefined : Number(minTtl) };
}

/** The config file SPEC §1's lookup finds, and whether it needs trust; undefined when none, or two in one place. */
function locate(ask: Ask, env: NodeJS.ProcessEnv, dir: string): { path: string; needsTrust: boolean } | undefined {
  const cwd = resolve(dir);
  if (ask.config !== undefined) return { path: absolutePath(ask.config, cwd, env), needsTrust: false };
  if (env.TOKENSMITH_CONFIG) return { path: absolutePath(env.TOKENSMITH_CONFIG, cwd, env), needsTrust: false };
  const local = presentIn(cwd, CWD_NAMES);
  if (local.length) return local.length === 1 ? { path: local[0], needsTrust: true } : undefined;
  const user = presentIn(join(xdgConfigHome(env), "tokensmith"), XDG_NAMES);
  return user.length === 1 ? { path: user[0], needsTrust: false } : undefined;
}

/** The token state the route points to, when every check passes; undefined otherwise. */
function storedState(ask: Ask, buildId: string, env: NodeJS.ProcessEnv, cwd: string): { state: TokenState; header: { name: string; value: string }; marginMs?: number } | undefined {
  const found = locate(ask, env, cwd);
  if (!found) return undefined;
  const config = readOwnFileSync(found.path, "config file");
  if (found.needsTrust && !isTrustedSync(found.path, config.sha256, env)) return undefined;
  const route = readRoute({ buildId, configPath: found.path, configSha256: config.sha256, name: ask.name, env });
  if (!route) return undefined;
  const st = statSync(route.storeDir);
  // A folder readable by others is tightened by the normal path: left to it.
  if (privateDirProblem(route.storeDir, st) || (st.mode & 0o077) !== 0) return undefined;
  // Decoded, not registered for redaction: the fast path prints nothing but the token.
  const key = decodeKey(readPrivateFileSync(join(route.storeDir, KEY_FILE_NAME), "key file"));
  if (!key) return undefined; // a key of another length fails the sealer's own check: the normal path's to report
  if (!inputsHold(route, key, env)) return undefined;
  const folder = join(route.storeDir, "records", recordTag(route.recordKey));
  const generation = highest(seriesOf(readdirSync(folder)).gens);
  if (generation === 0) return undefined;
  const state = createSealer({ key }).open<TokenState>(route.recordKey, generation, readPrivateFileSync(genPath(folder, generation), "record file"));
  return { state, header: route.header, marginMs: route.marginMs };
}

export interface FastOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  now?: () => number;
}

/** What the normal path would print for `argv`, or undefined when the fast path cannot say. */
export function fastAnswer(argv: readonly string[], buildId: string, options: FastOptions = {}): string | undefined {
  const { env = process.env, cwd = process.cwd(), now = Date.now } = options;
  const ask = parseAsk(argv);
  if (!ask) return undefined;
  try {
    const found = storedState(ask, buildId, env, cwd);
    if (!found) return undefined;
    const { state } = found;
    const t = now();
    // Served by the normal path too, but a token inside its refresh margin goes there anyway (§2.3).
    if (!live(state) || !isUsable(state, t, { minTtlMs: ask.minTtl === undefined ? undefined : ask.minTtl * 1000 }) || isDue(state, t, found.marginMs)) return undefined;
    const info = toTokenInfo(state);
    if (ask.command === "token") return print(ask, info.accessToken, tokenJson(ask.name, info, now()));
    const value = found.header.value.split("{token}").join(info.accessToken);
    return print(ask, `${found.header.name}: ${value}`, { connection: ask.name, name: found.header.name, value });
  } catch {
    return undefined;
  }
}

/** As the CLI's Printer.data prints. */
function print(ask: Ask, text: string, json: unknown): string {
  return ask.json ? `${JSON.stringify(json, null, 2)}\n` : text.endsWith("\n") ? text : `${text}\n`;
}

/** The digest of dist/cli-bundle/main.cjs, put here by scripts/bundle.mjs: routes are kept per build. */
declare const __BUNDLE_DIGEST__: string | undefined;

/** The binary's entry (bin/tokensmith.js): true when the answer was printed and the run is over. */
export function serve(argv: readonly string[]): boolean {
  return typeof __BUNDLE_DIGEST__ === "string" && serveFast(argv, __BUNDLE_DIGEST__);
}

/** True when the answer was written to stdout (the run is over), false to run the CLI. */
export function serveFast(argv: readonly string[], buildId: string): boolean {
  const answer = fastAnswer(argv, buildId);
  if (answer === undefined) return false;
  const bytes = Buffer.from(answer, "utf8");
  let written = 0;
  try {
    while (written < bytes.length) {
      try {
        written += writeSync(1, bytes, written);
      } catch (err) {
        // A non-blocking stdout that is full: before the first byte, the CLI's stream waits for it.
        if ((err as NodeJS.ErrnoException).code !== "EAGAIN" || written === 0) throw err;
      }
    }
  } catch (err) {
    // The reader left (`| head`): what it wanted was written, as the normal path says (exit 0).
    if ((err as NodeJS.ErrnoException).code === "EPIPE") return true;
    if (written === 0) return false;
    process.exitCode = 1; // Half an answer: a failure, but not a second answer from the normal path.
  }
  return true;
}

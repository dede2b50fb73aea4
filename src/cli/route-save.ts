import { join } from "node:path";
import { hasReference, referencedInputs } from "../config/references.js";
import { resolveStoreConfig } from "../config/resolve.js";
import { readPrivateFileSync } from "../fs-private.js";
import { internals } from "../lifecycle/handle.js";
import { KEY_FILE_NAME } from "../store/file-io.js";
import { parseKey } from "../store/sealed.js";
import type { TokenSmith } from "../tokensmith.js";
import { currentInputs, ENV_INPUTS, fileBytes, saveRoute } from "./token-route.js";

/**
 * Writes the token route of a connection after the normal path served it (src/cli/token-route.ts),
 * when the fast path can serve it exactly as the normal path would: a config file, the file
 * store with its generated key file, `cache: shared`, a header template without references,
 * no warning in the run. Anything else writes nothing, and the fast path keeps falling back.
 * Never throws: a route is an optimisation only.
 */

export interface PendingRoute {
  /** Call once the connection was served; `warned`: the run printed a warning (the fast path would not). */
  save(warned: boolean): void;
}

/**
 * Notes the files the config's references read *before* the connection is resolved, so that
 * a file changed while it was being resolved is seen (bytes before and after differ: no route).
 */
export function pendingRoute(ts: TokenSmith, name: string, buildId: string, env: NodeJS.ProcessEnv): PendingRoute {
  const inputs = configInputs(ts, name, env);
  const before = new Map([...(inputs?.files ?? [])].map((path) => [path, fileBytes(path)]));
  return {
    save(warned) {
      try {
        if (!inputs || warned || [...before].some(([path, bytes]) => !sameBytes(bytes, fileBytes(path)))) return;
        save(ts, name, buildId, env, inputs);
      } catch {
        // No route: the next run takes the normal path again.
      }
    },
  };
}

function save(ts: TokenSmith, name: string, buildId: string, env: NodeJS.ProcessEnv, inputs: { names: Set<string>; files: Set<string> }): void {
  const handle = internals(ts.connection(name));
  const loaded = handle.runtime.options.loaded;
  const setup = handle.ready;
  if (!loaded.path || !loaded.sha256 || !setup || setup.ctx.cache !== "shared") return;
  const store = resolveStoreConfig(loaded, env);
  if (store.type !== "file" || !store.dir || store.key !== undefined || store.oldKeys !== undefined) return;
  if (hasReference(JSON.stringify(loaded.connections[name]?.header ?? ""))) return;
  const storeKey = parseKey(readPrivateFileSync(join(store.dir, KEY_FILE_NAME), "key file"), "key file");
  saveRoute(
    { buildId, configPath: loaded.path, configSha256: loaded.sha256, name, env },
    {
      v: 1,
      storeDir: store.dir,
      recordKey: setup.manager.key,
      ...(setup.ctx.refreshMarginMs !== undefined && { marginMs: setup.ctx.refreshMarginMs }),
      header: setup.conn.header,
      inputs: currentInputs(storeKey, env, inputs.names, inputs.files),
    },
  );
}

/**
 * Every variable and file that a reference anywhere in the config reads (and the credentials
 * and TLS files it names): over-counting only costs a fallback, missing one could serve a
 * stale route.
 */
function configInputs(ts: TokenSmith, name: string, env: NodeJS.ProcessEnv): { names: Set<string>; files: Set<string> } | undefined {
  try {
    const { store, gateway, proxy, tls, connections, dir } = internals(ts.connection(name)).runtime.options.loaded;
    const names = new Set(ENV_INPUTS);
    const files = new Set<string>();
    visitStrings({ store, gateway, proxy, tls, connections }, (value, key) => {
      const path = key !== undefined && FILE_FIELDS.has(key) && !value.includes("-----BEGIN ");
      const found = referencedInputs(path ? `\${file:${value}}` : value, dir, env);
      found.env.forEach((n) => names.add(n));
      found.files.forEach((f) => files.add(f));
    });
    return { names, files };
  } catch {
    return undefined;
  }
}

/** Fields that name a file to read (a PEM may also be given inline). */
const FILE_FIELDS = new Set(["credentials_file", "ca_file", "client_cert", "client_key"]);

function visitStrings(value: unknown, visit: (value: string, key: string | undefined) => void, key?: string): void {
  if (typeof value === "string") visit(value, key);
  else if (Array.isArray(value)) value.forEach((item) => visitStrings(item, visit, key));
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) visitStrings(v, visit, k);
}

const sameBytes = (a: Buffer | undefined, b: Buffer | undefined) => (a === undefined || b === undefined ? a === b : a.equals(b));

import { sectionChanged } from "../config/diff.js";
import type { LoadedConfig } from "../config/load.js";
import { resolveGatewayConfig, resolveStoreConfig, type GatewayConfig } from "../config/resolve.js";
import { toTokenSmithError, type TokenSmithError } from "../errors.js";
import { registerSecret } from "../redact.js";
import type { ReloadResult, TokenSmith } from "../tokensmith.js";
import { ApiKeys, type Sessions } from "./auth.js";
import { gatewayKeyPath, loadOrCreateGatewayKey } from "./key-file.js";

/**
 * Re-reading the config while serving (SPEC §5: SIGHUP, or the dashboard's Reload): the
 * connections and `gateway.api_keys` change in place, dashboard sessions go on, and a config
 * that does not validate changes nothing. Where the gateway listens (host, port, TLS, hosts)
 * is fixed at start: a change there is reported, and applies at the next start.
 */

/** What a reload did: the connections' changes, and what waits for a restart. */
/** What a reload changed; `api_keys_changed`: the gateway's keys (configured or the key file's) changed. */
export type GatewayReload = ReloadResult & { api_keys_changed: boolean };

/** How a reload went, for the operator's log (`GatewayOptions.onReload`). */
export type ReloadOutcome = { ok: true; reload: GatewayReload } | { ok: false; error: TokenSmithError };

/** The settings that need a new listener. */
const LISTENER_FIELDS = ["host", "port", "tls", "hosts"] as const;

/** The bearer keys of a gateway config: the configured ones, else the generated key file's. */
export async function gatewayKeys(loaded: LoadedConfig, settings: GatewayConfig, env: NodeJS.ProcessEnv): Promise<{ keys: ApiKeys; keyFile?: string }> {
  let keys = settings.apiKeys;
  let keyFile: string | undefined;
  if (keys.length === 0) {
    keyFile = gatewayKeyPath(resolveStoreConfig(loaded, env), env);
    keys = [{ key: await loadOrCreateGatewayKey(keyFile) }];
  }
  for (const { key } of keys) registerSecret(key);
  return { keys: new ApiKeys(keys), keyFile };
}

/** What a gateway's reload works on: the library instance and what the handler reads per request. */
export interface Reloadable {
  ts: TokenSmith;
  keys: ApiKeys;
  sessions: Sessions;
}

/**
 * A function that reloads `target` from its config file, resolving with what changed or
 * rejecting (`config_invalid`, ...) with everything as it was; `onOutcome` hears both.
 */
export function reloader(target: Reloadable, initial: LoadedConfig, env: NodeJS.ProcessEnv, onOutcome: (outcome: ReloadOutcome) => void): () => Promise<GatewayReload> {
  let current = initial;
  // One at a time: a second SIGHUP while the first reads the file waits for it.
  let queue: Promise<unknown> = Promise.resolve();
  const reloadOnce = async (): Promise<GatewayReload> => {
    let next: { loaded: LoadedConfig; keys: ApiKeys } | undefined;
    try {
      const changes = await target.ts.reloadChecked(async (loaded) => {
        next = { loaded, keys: (await gatewayKeys(loaded, resolveGatewayConfig(loaded, env), env)).keys };
      });
      const { loaded, keys } = next!;
      const restart = LISTENER_FIELDS.filter((field) => sectionChanged(current, loaded, "gateway", field));
      const warnings = [...changes.warnings, ...restart.map((field) => `gateway.${field} changed: it applies when tokensmith serve is restarted`)];
      const before = target.keys.ids();
      const after = keys.ids();
      // A key is its digest and its connections (ApiKeys.ids): a reordered list is no change.
      const keysChanged = before.size !== after.size || [...after].some((id) => !before.has(id));
      target.keys = keys;
      target.sessions.keepKeySessions(after);
      current = loaded;
      const reload = { ...changes, warnings, api_keys_changed: keysChanged };
      onOutcome({ ok: true, reload });
      return reload;
    } catch (err) {
      const error = toTokenSmithError(err);
      onOutcome({ ok: false, error });
      throw error;
    }
  };
  return () => {
    const run = queue.then(reloadOnce, reloadOnce);
    queue = run.catch(() => undefined);
    return run;
  };
}

/** The operator's log lines for a reload: what changed, or the error and that the old config runs on. */
export function reloadLogLines(outcome: ReloadOutcome): string[] {
  if (!outcome.ok) {
    const { message, hint } = outcome.error;
    return [`config reload failed: ${message}${hint ? ` (${hint})` : ""}; still serving the previous config`];
  }
  const { added, removed, changed, warnings, api_keys_changed } = outcome.reload;
  const parts = [["added", added], ["removed", removed], ["changed", changed]] as const;
  const said = parts.filter(([, names]) => names.length).map(([word, names]) => `${word} ${names.join(", ")}`);
  if (api_keys_changed) said.push("gateway.api_keys changed");
  return [`config reloaded: ${said.length ? said.join("; ") : "nothing changed"}`, ...warnings.map((w) => `warning: ${w}`)];
}

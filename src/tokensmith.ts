import { systemClock, type Clock } from "./clock.js";
import { connectionChanges, sectionChanged } from "./config/diff.js";
import { loadConfig, type ConfigCache, type LoadedConfig } from "./config/load.js";
import { TokenSmithError, toTokenSmithError } from "./errors.js";
import { Connection } from "./lifecycle/connection.js";
import { internals } from "./lifecycle/handle.js";
import { Runtime, unknownConnection } from "./lifecycle/runtime.js";
import { connectionStatuses, type ConnectionStatus } from "./lifecycle/status.js";
import { importState, type ImportOptions, type ImportResult } from "./lifecycle/transfer.js";
import { listPresets, type Preset } from "./providers/registry.js";
import type { FetchLike } from "./protocol/types.js";
import type { Store } from "./store/types.js";

export interface LoadOptions {
  /** A config file path, or the config itself as an object. Default: `$TOKENSMITH_CONFIG`, else `./tokensmith.yaml` (once trusted), else `~/.config/tokensmith/config.yaml`. */
  config?: string | object;
  /** Environment for `${env:}` and the config lookup. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where `./tokensmith.yaml` is looked for. Default: process.cwd(). */
  cwd?: string;
  /**
   * Refresh in the background inside the refresh margin. Default true: right for
   * services; the CLI turns it off because a short-lived process must not start one.
   */
  refreshAhead?: boolean;
  /** Receives warnings (the library never prints). Default: none. */
  onWarning?: (message: string) => void;
  /** Injections for tests and embedding: transport, time, and a ready store (yours to close: `close()` leaves it open). */
  fetch?: FetchLike;
  clock?: Clock;
  store?: Store;
  /** @internal The CLI's cache of validated config files (src/cli/config-cache.ts). */
  configCache?: ConfigCache;
  /**
   * @internal The gateway's: open the store now (so one that cannot be opened fails the load)
   * and use it through this wrapper, which observes it for metrics.
   */
  observeStore?: (store: Store) => Store;
}

/** What `reload()` changed, by connection name; and what waits for a restart. */
export interface ReloadResult {
  added: string[];
  removed: string[];
  /** Connections whose settings differ (or the top-level `proxy`/`tls` defaults they take). */
  changed: string[];
  /** E.g. that the `store:` section changed, which applies at the next start. */
  warnings: string[];
}

/**
 * The library's entry point: load a config, then get connections by name.
 *
 * ```ts
 * const ts = await TokenSmith.load();
 * const token = await ts.connection("billing").accessToken();
 * ```
 */
export class TokenSmith {
  private readonly connections = new Map<string, Connection>();

  private constructor(
    private readonly runtime: Runtime,
    private readonly source: Pick<LoadOptions, "config" | "cwd" | "configCache">,
  ) {}

  /** Load and validate the config (eagerly; secrets are resolved per connection on first use). */
  static async load(options: LoadOptions = {}): Promise<TokenSmith> {
    const env = options.env ?? process.env;
    try {
      const loaded = await loadConfig({ config: options.config, cwd: options.cwd, env, cache: options.configCache });
      const runtime = new Runtime({
        loaded,
        env,
        clock: options.clock ?? systemClock,
        fetch: options.fetch ?? ((url, init) => globalThis.fetch(url, init)),
        refreshAhead: options.refreshAhead ?? true,
        store: options.store,
        observeStore: options.observeStore,
        onWarning: options.onWarning ?? (() => {}),
      });
      if (options.observeStore) await runtime.store();
      return new TokenSmith(runtime, { config: loaded.path ?? options.config, cwd: options.cwd, configCache: options.configCache });
    } catch (err) {
      throw toTokenSmithError(err);
    }
  }

  /** The connection of that name; `config_invalid` if there is none. */
  connection(name: string): Connection {
    let connection = this.connections.get(name);
    if (!connection) {
      const names = this.runtime.connectionNames();
      if (!names.includes(name)) throw unknownConnection(name, names);
      connection = Connection.create(name, this.runtime);
      this.connections.set(name, connection);
    }
    return connection;
  }

  /** The config file in use (undefined when the config was given as an object). */
  get configPath(): string | undefined {
    return this.runtime.options.loaded.path;
  }

  /** Names of the configured connections, in config order. */
  connectionNames(): string[] {
    return this.runtime.connectionNames();
  }

  /**
   * Take over a login exported on another machine (`Connection.export`) as connection
   * `name`'s token state; refused when the bundle is for another token state.
   */
  async import(name: string, bundle: string | object, options: ImportOptions): Promise<ImportResult> {
    return importState(() => internals(this.connection(name)), name, bundle, options);
  }

  /**
   * Every connection's status (or those of `names`), in config order: what `tokensmith status`
   * and the gateway list. A connection whose settings don't resolve is a row with `error` set;
   * a store that cannot be read fails the call (`store_error`) rather than showing "none".
   */
  async statuses(names: string[] = this.connectionNames()): Promise<ConnectionStatus[]> {
    return connectionStatuses(names.map((name) => internals(this.connection(name))));
  }

  /**
   * Re-read the config (what `tokensmith serve` does on SIGHUP or the dashboard's Reload):
   * connections added, removed or changed apply from their next use, and token state is kept
   * (the store holds it, by fingerprint). A config that no longer validates is `config_invalid`
   * and the running one stays. The store is not reopened: a changed `store:` section is a
   * warning in the result, and takes effect at the next start.
   */
  reload(): Promise<ReloadResult> {
    return this.reloadChecked();
  }

  /**
   * `reload()`, with `accept` checking the new config before it is used (the gateway's
   * `gateway:` section); throwing refuses it, and the running config stays.
   * @internal
   */
  async reloadChecked(accept?: (loaded: LoadedConfig) => void | Promise<void>): Promise<ReloadResult> {
    const env = this.runtime.options.env;
    try {
      // The file is read again as it was first found: a working-folder config is trusted again or refused.
      const loaded = await loadConfig({ config: this.source.config, cwd: this.source.cwd, env, cache: this.source.configCache, foundAs: this.runtime.options.loaded.source });
      await accept?.(loaded);
      const before = this.runtime.options.loaded;
      const warnings = sectionChanged(before, loaded, "store") ? ["store changed: the running process keeps its store until it is restarted"] : [];
      const changes = connectionChanges(before, loaded);
      this.runtime.replaceConfig(loaded);
      this.connections.clear();
      return { ...changes, warnings };
    } catch (err) {
      throw toTokenSmithError(err);
    }
  }

  /** The provider presets (`provider:` values). */
  providers(): Preset[] {
    return listPresets();
  }

  /** Waits for in-flight store writes and closes the store. */
  async close(): Promise<void> {
    await this.runtime.close();
  }
}

export { TokenSmithError };

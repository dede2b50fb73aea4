import type { ConfigFile, ConnectionConfig, GatewaySection, StoreSection } from "./schema.js";

/**
 * A loaded config, as resolution reads it: its own module (types only), so loading, which
 * checks connections and sections, and resolving, which reads the loaded config, do not
 * import each other.
 */

/** Where the config came from: the `config` option (a path or an object), $TOKENSMITH_CONFIG, the working folder, or the XDG config folder. */
export type ConfigSource = "option" | "object" | "env" | "cwd" | "xdg";

export interface LoadedConfig {
  /** Absolute path of the config file; undefined when the config was given as an object. */
  path?: string;
  /** SHA-256 (hex) of the config file's exact bytes, as loaded; undefined for an object. */
  sha256?: string;
  /** The folder relative `${file:}` and `store.dir` paths are taken from. */
  dir: string;
  source: ConfigSource;
  store?: StoreSection;
  gateway?: GatewaySection;
  /** Top-level `proxy` and `tls`: every connection's defaults (SPEC §1). */
  proxy?: string;
  tls?: ConfigFile["tls"];
  connections: Record<string, ConnectionConfig>;
  /** Connection names in file order. */
  connectionNames(): string[];
}

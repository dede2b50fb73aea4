import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import type { Clock } from "../clock.js";
import type { Store, StoreConfig } from "./types.js";

/**
 * The driver registry: one row per store driver, read by the config schema (the
 * `store.type` values and which fields each type takes), config validation (URL schemes) and
 * `createStore`. Cheap to import: a row's `open` imports its driver only when chosen, so `pg`
 * and the Redis client cost nothing to a user of the file store. A new driver is one backend
 * file (docs/store-drivers.md), one row here, and one line calling the conformance suite.
 */

/** What `createStore` hands a driver besides its config section: the parsed keys and options. */
export interface DriverContext {
  /** `store.key`, parsed (32 bytes); required when the row says `needsKey`. */
  key?: Buffer;
  /** `store.old_keys`, parsed. */
  oldKeys: Buffer[];
  clock?: Clock;
  onWarning?: (message: string) => void;
}

/** A location field of the `store:` section; `type`, `key` and `old_keys` belong to every driver. */
export const STORE_FIELDS = ["dir", "url", "schema", "prefix", "cluster"] as const;
export type StoreField = (typeof STORE_FIELDS)[number];

export interface StoreDriver {
  /** The location fields this driver takes; any other is a config error naming the field. */
  readonly fields: readonly StoreField[];
  /** URL schemes `store.url` may have (`postgres:`); a driver with schemes requires `store.url` (or `urlOr`). */
  readonly schemes?: readonly string[];
  /** A list field that stands in for `store.url` (Redis `cluster:`, the URLs of cluster nodes): one of the two, never both. */
  readonly urlOr?: StoreField;
  /** Records leave this machine, so `store.key` is required (they are encrypted with it). */
  readonly needsKey: boolean;
  /** Imports the driver and opens the store. */
  open(config: StoreConfig, context: DriverContext): Promise<Store>;
}

/** `$XDG_STATE_HOME/tokensmith`, else `~/.local/state/tokensmith`. */
export function defaultStoreDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  // The XDG spec says relative paths are invalid and must be ignored.
  return xdg && isAbsolute(xdg) ? join(xdg, "tokensmith") : join(homedir(), ".local", "state", "tokensmith");
}

const expandHome = (path: string) => (path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : path);
/** `url` and `key` of a networked driver, present: `createStore` checked them against the row. */
const network = (config: StoreConfig, context: DriverContext) => ({ ...context, url: config.url ?? "", key: context.key! });

// The import specifiers are literal so the CLI bundler includes every driver (as lazily loaded chunks).
export const STORE_DRIVERS = {
  memory: {
    fields: [],
    needsKey: false,
    open: async (_config, context) => (await import("./memory.js")).createMemoryStore({ clock: context.clock }),
  },
  file: {
    fields: ["dir"],
    needsKey: false,
    open: async (config, context) => (await import("./file.js")).createFileStore({ ...context, dir: expandHome(config.dir ?? defaultStoreDir()) }),
  },
  postgres: {
    fields: ["url", "schema"],
    schemes: ["postgres:", "postgresql:"],
    needsKey: true,
    open: async (config, context) => (await import("./postgres.js")).createPostgresStore({ ...network(config, context), schema: config.schema }),
  },
  redis: {
    fields: ["url", "prefix", "cluster"],
    schemes: ["redis:", "rediss:", "redis+sentinel:", "rediss+sentinel:"],
    urlOr: "cluster",
    needsKey: true,
    open: async (config, context) =>
      (await import("./redis.js")).createRedisStore({ ...network(config, context), prefix: config.prefix, cluster: config.cluster }),
  },
} satisfies Record<string, StoreDriver>;

export type StoreType = keyof typeof STORE_DRIVERS;
/** Every `store.type`, in the registry's order. */
export const STORE_TYPES = Object.keys(STORE_DRIVERS) as [StoreType, ...StoreType[]];

/** The row of `type`, or undefined for a type no driver has. */
export function storeDriver(type: string): StoreDriver | undefined {
  return Object.hasOwn(STORE_DRIVERS, type) ? STORE_DRIVERS[type as StoreType] : undefined;
}

import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { TokenSmithError } from "../errors.js";
import type { Clock } from "../clock.js";
import { parseKey } from "./sealed.js";
import type { Store, StoreConfig } from "./types.js";

/**
 * Opens the configured store. Drivers are imported only when chosen (STYLE: heavy libraries
 * load lazily), so `pg` and the Redis client cost nothing to a user of the file store.
 */

export interface CreateStoreOptions {
  clock?: Clock;
  /** Non-fatal problems (a quarantined record, loose permissions). */
  onWarning?: (message: string) => void;
}

/** The options every networked driver (postgres, redis) receives from `createStore`. */
export interface NetworkStoreOptions {
  url: string;
  /** Current encryption key (required for networked stores). */
  key: Buffer;
  oldKeys: Buffer[];
  clock?: Clock;
  onWarning?: (message: string) => void;
}
/** `./postgres.js` exports `createPostgresStore(options)`. */
export interface PostgresDriverModule {
  createPostgresStore(options: NetworkStoreOptions & { schema?: string }): Promise<Store> | Store;
}
/** `./redis.js` exports `createRedisStore(options)`. */
export interface RedisDriverModule {
  createRedisStore(options: NetworkStoreOptions & { prefix?: string }): Promise<Store> | Store;
}

/** `$XDG_STATE_HOME/tokensmith`, else `~/.local/state/tokensmith` (SPEC §1). */
export function defaultStoreDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  // The XDG spec says relative paths are invalid and must be ignored.
  return xdg && isAbsolute(xdg) ? join(xdg, "tokensmith") : join(homedir(), ".local", "state", "tokensmith");
}

const expandHome = (path: string) => (path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : path);

export async function createStore(config: StoreConfig, options: CreateStoreOptions = {}): Promise<Store> {
  const oldKeys = (config.oldKeys ?? []).map((k, i) => parseKey(k, `store.old_keys[${i}]`));
  const key = config.key === undefined ? undefined : parseKey(config.key, "store.key");
  switch (config.type) {
    case "memory": {
      const { createMemoryStore } = await import("./memory.js");
      return createMemoryStore({ clock: options.clock });
    }
    case "file": {
      const { createFileStore } = await import("./file.js");
      return createFileStore({ dir: expandHome(config.dir ?? defaultStoreDir()), key, oldKeys, ...options });
    }
    case "postgres": {
      const common = networkOptions(config, key, oldKeys, options);
      const mod = await loadDriver<PostgresDriverModule>("postgres");
      return mod.createPostgresStore({ ...common, schema: config.schema });
    }
    case "redis": {
      const common = networkOptions(config, key, oldKeys, options);
      const mod = await loadDriver<RedisDriverModule>("redis");
      return mod.createRedisStore({ ...common, prefix: config.prefix });
    }
    default:
      throw new TokenSmithError("config_invalid", `unknown store type ${JSON.stringify((config as { type: unknown }).type)}`, {
        field: "store.type",
        hint: "use memory, file, postgres or redis",
      });
  }
}

function networkOptions(config: StoreConfig, key: Buffer | undefined, oldKeys: Buffer[], options: CreateStoreOptions): NetworkStoreOptions {
  if (!config.url) throw new TokenSmithError("config_invalid", `a ${config.type} store needs store.url`, { field: "store.url" });
  if (!key) {
    throw new TokenSmithError("config_invalid", `a ${config.type} store needs store.key (records are encrypted at rest)`, {
      field: "store.key",
      hint: "generate one with: openssl rand -base64 32, and pass it as ${env:TOKENSMITH_KEY}",
    });
  }
  return { url: config.url, key, oldKeys, ...options };
}

/**
 * Imports a network driver. The specifiers are literal so the CLI bundler includes both
 * drivers (as lazily loaded chunks): `pg` and `ioredis` themselves load only when used.
 */
async function loadDriver<M>(name: "postgres" | "redis"): Promise<M> {
  return (name === "postgres" ? await import("./postgres.js") : await import("./redis.js")) as M;
}

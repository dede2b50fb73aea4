import { TokenSmithError } from "../errors.js";
import type { Clock } from "../clock.js";
import { STORE_TYPES, storeDriver } from "./registry.js";
import { parseKey } from "./sealed.js";
import type { Store, StoreConfig } from "./types.js";

/**
 * Opens the configured store through its row of the driver registry (registry.ts). Drivers
 * are imported only when chosen (STYLE: heavy libraries load lazily).
 */

export { defaultStoreDir } from "./registry.js";

export interface CreateStoreOptions {
  clock?: Clock;
  /** Non-fatal problems (a quarantined record, loose permissions). */
  onWarning?: (message: string) => void;
}

export async function createStore(config: StoreConfig, options: CreateStoreOptions = {}): Promise<Store> {
  const oldKeys = (config.oldKeys ?? []).map((k, i) => parseKey(k, `store.old_keys[${i}]`));
  const key = config.key === undefined ? undefined : parseKey(config.key, "store.key");
  const driver = storeDriver(config.type);
  if (!driver) {
    throw new TokenSmithError("config_invalid", `unknown store type ${JSON.stringify(config.type)}`, {
      field: "store.type",
      hint: `use ${STORE_TYPES.slice(0, -1).join(", ")} or ${STORE_TYPES.at(-1)}`,
    });
  }
  const alternative = "urlOr" in driver ? driver.urlOr : undefined;
  if (driver.schemes && !config.url && !(alternative && config[alternative]?.length)) {
    throw new TokenSmithError("config_invalid", `a ${config.type} store needs store.url${alternative ? ` or store.${alternative}` : ""}`, { field: "store.url" });
  }
  if (driver.needsKey && !key) {
    throw new TokenSmithError("config_invalid", `a ${config.type} store needs store.key (records are encrypted at rest)`, {
      field: "store.key",
      hint: "generate one with: openssl rand -base64 32, and pass it as ${env:TOKENSMITH_KEY}",
    });
  }
  return driver.open(config, { key, oldKeys, ...options });
}

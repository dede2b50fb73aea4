import type { TokenSmithConfig } from "./schema.js";

/**
 * Gives an inline config its types: `TokenSmith.load({ config: defineConfig({ ... }) })`
 * checks field names and values as you type. Returns the config unchanged; it is still
 * validated when loaded.
 */
export function defineConfig(config: TokenSmithConfig): TokenSmithConfig {
  return config;
}

/** The configuration layer (SPEC §1, §2.1): loading, validation, resolution, fingerprints. */
export { loadConfig, type ConfigSource, type LoadOptions, type LoadedConfig } from "./load.js";
export { resolveConnection, checkConnection, describeConnection, type ResolveOptions, type ResolvedResult } from "./resolve.js";
export { resolveStoreConfig, resolveGatewayConfig, checkSections, DEFAULT_GATEWAY_HOST, DEFAULT_GATEWAY_PORT, type GatewayConfig } from "./sections.js";
export { fingerprint, fingerprintInput, grantFamily, normalizeUrl } from "./fingerprint.js";
export { parseDuration, parseTtl } from "./duration.js";
export { hasReference } from "./references.js";
export { isLoopbackHost } from "./urls.js";
export { configSchema, connectionSchema, CONNECTION_NAME, GRANTS, CLIENT_AUTHS, type ConfigFile, type ConnectionConfig, type StoreSection, type GatewaySection } from "./schema.js";
export { DEFAULT_TTL_S, DEFAULT_TIMEOUT_S, DEFAULT_ASSERTION_TTL_S } from "./derive.js";
export { USER_GRANTS, isUserGrant, type ResolvedConnection, type GrantName, type ClientAuth, type AssertionSettings, type ResponseMapping } from "./types.js";

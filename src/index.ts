/**
 * tokensmith: the library's public surface. Re-exports only, by name; the HTTP adapters are the
 * subpath exports `tokensmith/undici` and `tokensmith/axios`.
 */

/** The entry point: `TokenSmith.load()` reads the config (found by the usual lookup, a path, or an object). */
export { TokenSmith, type LoadOptions, type ReloadResult } from "./tokensmith.js";
/** Types for a config written inline: `TokenSmith.load({ config: defineConfig({ connections: { ... } }) })`. */
export { defineConfig } from "./config/define.js";
export type { TokenSmithConfig } from "./config/schema.js";
/** One named connection: `accessToken()`, `token()`, `fetch()`, `headers()`, `paginate()`, `login()`, `status()`, `history()`, `test()`, `revoke()`, `logout()`, `export()`. */
export { Connection, type TokenInfo, type TokenOptions } from "./lifecycle/connection.js";
/** What `connection.status()` and `ts.statuses()` report (as `tokensmith status`); never secrets. */
export type { ConnectionStatus } from "./lifecycle/status.js";
export type { Health, HealthName } from "./lifecycle/health-types.js";
/** A connection's recent token requests: `connection.history({ limit })`. */
export type { HistoryOptions, TokenRequestEntry, TokenRequestLog } from "./lifecycle/request-log.js";
/** Interactive authorization (`connection.login()`): browser, manual paste or device flow. */
export type { LoginFlow, LoginOptions, LoginResult } from "./lifecycle/login.js";
/** What the device flow shows the user (RFC 8628), through `onUserCode`. */
export type { DeviceProgress, UserCodeInfo } from "./flows/device.js";
/** The authorization URL handed to `onAuthorizationUrl`, for callers that open it themselves. */
export type { AuthorizationUrlInfo } from "./flows/authorization-code.js";
/** The diagnosis `connection.test()` returns: what worked, what failed, the likely cause. */
export type { Diagnosis, DiagnosisStep } from "./lifecycle/diagnose.js";
/** `connection.revoke()` (RFC 7009): which tokens to revoke, and what the server said. */
export type { RevokeOptions, RevokeResult } from "./lifecycle/revoke.js";
export type { LogoutOptions, TestOptions } from "./lifecycle/connection.js";
/** Moving a login between machines: `connection.export({ passphrase })`, `ts.import(name, bundle, { passphrase })`. */
export type { ExportOptions, ImportOptions, ImportResult } from "./lifecycle/transfer.js";
/** `tokensmith trust [PATH] [--revoke]` for library users: trust (or forget) a config found in the working folder. */
export { trustConfig, forgetConfig, type TrustResult } from "./config/trust.js";
/** Every error tokensmith throws, with a stable `code`, the connection, HTTP status, OAuth error fields and a hint. */
export { TokenSmithError, type ErrorCode } from "./errors.js";
/** Injectable time (`LoadOptions.clock`), so tests need not wait for real expiry. */
export type { Clock } from "./clock.js";
/** The store contract, for `LoadOptions.store` and custom drivers. */
export type { Lease, Store, StoreRecord, StoreConfig, Updater, UpdateOptions, UpdateResult } from "./store/types.js";
/** A provider preset, as `ts.providers()` lists them. */
export type { Preset } from "./providers/registry.js";
/** The least number of token requests a run can make, the bar benchmarks report against. */
export { minimumTokenRequests } from "./lifecycle/timing.js";
/** `connection.fetch(url, init)`: `RequestInit` plus per-call options such as `retry`. */
export type { AuthorizedInit } from "./http/fetch.js";
/** Per-call options every adapter accepts (`retry`). */
export type { CallOptions } from "./http/call-options.js";
/** `connection.paginate(url, options)`: records by JSONPath; next page by Link header, JSONPath or cursor. */
export type { PaginateOptions } from "./http/paginate.js";
/** Retries of 429/503 (`api_retry`, or `retry` per call); off by default. */
export type { ApiRetryOptions } from "./http/retry.js";

/** tokensmith: the library's public surface (SPEC §4). Re-exports only. */
export { TokenSmith, type LoadOptions } from "./tokensmith.js";
export { Connection, type TokenInfo, type TokenOptions } from "./lifecycle/connection.js";
export type { ConnectionStatus } from "./lifecycle/status.js";
export type { LoginFlow, LoginOptions, LoginResult } from "./flows/login.js";
export type { DeviceProgress, UserCodeInfo } from "./flows/device.js";
export type { AuthorizationUrlInfo } from "./flows/authorization-code.js";
export type { Diagnosis, DiagnosisStep } from "./lifecycle/diagnose.js";
export type { RevokeOptions, RevokeResult } from "./lifecycle/revoke.js";
export type { ExportOptions, ImportOptions, ImportResult } from "./lifecycle/transfer.js";
export { TokenSmithError, type ErrorCode } from "./errors.js";
export type { Clock } from "./clock.js";
export type { Store, StoreRecord, StoreConfig, UpdateOptions, UpdateResult } from "./store/types.js";
export type { Preset } from "./providers/registry.js";
export { minimumTokenRequests } from "./lifecycle/timing.js";
export type { AuthorizedInit } from "./http/fetch.js";
export type { CallOptions } from "./http/call.js";
export type { PaginateOptions } from "./http/paginate.js";
export type { ApiRetryOptions } from "./http/retry.js";

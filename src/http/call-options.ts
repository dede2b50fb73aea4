import type { ApiRetryOptions } from "./retry.js";

/** Options every adapter accepts per call. */
export interface CallOptions {
  /** Retries on 429/503 for this call (`false`: none, even if the connection has `api_retry`). */
  retry?: ApiRetryOptions | false;
}

/**
 * A connection's health, as `tokensmith status`, `--json`, `ts.statuses()`, the dashboard and
 * `/metrics` show it (computed by lifecycle/health.ts).
 */
export const HEALTH_NAMES = ["ready", "expiring", "login_required", "failing", "unreadable", "removed", "none"] as const;
export type HealthName = (typeof HEALTH_NAMES)[number];

/** The health of one connection; snake_case, as it appears in every JSON document. */
export interface Health {
  status: HealthName;
  /** One line in words, e.g. "token valid, expires in 52m 50s"; durations via `formatDuration`. */
  summary: string;
  /** It gets its tokens by itself (its own grant, or a refresh token held): never shown as a problem. */
  renews_by_itself: boolean;
  expires_at: string | null;
  /** Seconds left, never negative (0 once expired); null without a token or expiry. */
  expires_in: number | null;
  /** The remembered error, or the refused refresh; `retry_at` is when the server is asked again (null: never, until a login). */
  last_error: { code: string; error: string | null; message: string; hint: string | null; at: string; retry_at: string | null } | null;
  removed: { reason: "logout" | "revoked" | "moved"; at: string } | null;
}


import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatDuration, formatRelative, health, UNREADABLE, type HealthName, type HealthPolicy } from "../../src/lifecycle/health.js";
import type { TokenState } from "../../src/lifecycle/state.js";

/** SPEC §3 `status`: the health model, one row per case, as pure data. */
const T0 = 1_000_000_000;
const HOUR = 3_600_000;
const user: HealthPolicy = { grant: "authorization_code" };
const app: HealthPolicy = { grant: "client_credentials" };
const seeded: HealthPolicy = { grant: "refresh_token", hasSeed: true };
const holding = (extra: Partial<TokenState> = {}): TokenState => ({ v: 1, accessToken: "at", tokenType: "Bearer", issuedAt: T0, expiresAt: T0 + HOUR, tokenRequests: 1, ...extra });
const remembered = (at: number) => ({ code: "oauth_error", message: "the token endpoint refused the client (invalid_client)", error: "invalid_client", hint: "check client_secret", at, until: at + 30_000 });

interface Row {
  case: string;
  state: TokenState | undefined | typeof UNREADABLE;
  policy: HealthPolicy;
  now: number;
  status: HealthName;
  summary?: RegExp;
}

const rows: Row[] = [
  { case: "a valid token is ready, with its expiry in words", state: holding(), policy: user, now: T0 + HOUR - 3_170_000, status: "ready", summary: /expires in 52m 50s/ },
  { case: "client_credentials with an expired token renews by itself: ready, not a problem", state: holding(), policy: app, now: T0 + 2 * HOUR, status: "ready", summary: /expired 1h ago; renews by itself/ },
  { case: "client_credentials inside the margin is ready (it renews by itself)", state: holding(), policy: app, now: T0 + HOUR - 30_000, status: "ready" },
  { case: "a user grant with a refresh token and an expired access token is ready", state: holding({ refreshToken: "rt" }), policy: user, now: T0 + 2 * HOUR, status: "ready" },
  { case: "a user grant inside the margin without a refresh token is expiring", state: holding(), policy: user, now: T0 + HOUR - 30_000, status: "expiring", summary: /a login will be needed/ },
  { case: "a user grant whose token expired without a refresh token needs a login", state: holding(), policy: user, now: T0 + 2 * HOUR, status: "login_required", summary: /expired 1h ago/ },
  { case: "a user grant never logged in needs a login (not none)", state: undefined, policy: user, now: T0, status: "login_required", summary: /no login yet/ },
  { case: "a refused refresh needs a login", state: holding({ refreshToken: "rt", reauth: { at: T0 + HOUR, error: "invalid_grant" } }), policy: user, now: T0 + 2 * HOUR, status: "login_required", summary: /refused \(invalid_grant\) 1h ago/ },
  { case: "client_credentials never used is none", state: undefined, policy: app, now: T0, status: "none", summary: /first token by itself/ },
  { case: "a seeded refresh token never used is none", state: undefined, policy: seeded, now: T0, status: "none" },
  { case: "a remembered error without a usable token is failing, with when it is retried", state: { v: 1, tokenRequests: 1, lastError: remembered(T0) }, policy: app, now: T0 + 5_000, status: "failing", summary: /invalid_client.*\(5s ago\); asked again in 25s/ },
  { case: "a lapsed remembered error is not failing", state: { v: 1, tokenRequests: 1, lastError: remembered(T0) }, policy: app, now: T0 + 60_000, status: "ready" },
  { case: "a remembered error under a valid token stays ready", state: holding({ lastError: remembered(T0) }), policy: app, now: T0 + 5_000, status: "ready" },
  { case: "a logout is removed, saying which and when", state: { v: 1, tombstone: { reason: "logout", at: T0 } }, policy: user, now: T0 + 180_000, status: "removed", summary: /logged out 3m ago; a login is needed/ },
  { case: "an export-as-move is removed", state: { v: 1, tombstone: { reason: "moved", at: T0 } }, policy: app, now: T0 + 1000, status: "removed", summary: /moved to another machine by export 1s ago/ },
  { case: "a revoke is removed", state: { v: 1, tombstone: { reason: "revoked", at: T0 } }, policy: user, now: T0 + 7_200_000, status: "removed", summary: /revoked 2h ago/ },
  { case: "an undecryptable state is unreadable", state: UNREADABLE, policy: app, now: T0, status: "unreadable" },
];

describe("health", () => {
  for (const row of rows) {
    it(row.case, () => {
      const h = health(row.state, row.policy, row.now);
      assert.equal(h.status, row.status, h.summary);
      if (row.summary) assert.match(h.summary, row.summary);
    });
  }

  it("keeps snake_case keys and never a negative expires_in", () => {
    const h = health(holding(), app, T0 + 2 * HOUR);
    assert.deepEqual(Object.keys(h).sort(), ["expires_at", "expires_in", "last_error", "removed", "renews_by_itself", "status", "summary"]);
    assert.equal(h.expires_in, 0);
    assert.equal(h.renews_by_itself, true);
    const failing = health({ v: 1, tokenRequests: 1, lastError: remembered(T0) }, app, T0 + 1000);
    assert.equal(failing.last_error?.retry_at, new Date(T0 + 30_000).toISOString());
    assert.equal(failing.last_error?.error, "invalid_client");
  });
});

describe("durations, written one way", () => {
  it("formats durations and relative times", () => {
    assert.equal(formatDuration(3170), "52m 50s");
    assert.equal(formatDuration(180), "3m");
    assert.equal(formatDuration(42), "42s");
    assert.equal(formatDuration(3600 + 300), "1h 5m");
    assert.equal(formatDuration(90_000), "1d 1h");
    assert.equal(formatRelative(T0 + 3_170_000, T0), "in 52m 50s");
    assert.equal(formatRelative(T0 - 180_000, T0), "3m ago");
    // 21 seconds after expiry is never "in 0 s".
    assert.equal(formatRelative(T0 - 21_000, T0), "21s ago");
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TokenSmithError } from "../../src/errors.js";
import { decide, failureEvent, type GrantPolicy, type Verdict, type Wanted } from "../../src/lifecycle/decide.js";
import { requestWithRecovery } from "../../src/lifecycle/recovery.js";
import type { TokenState } from "../../src/lifecycle/state.js";
import { transition, type StateEvent } from "../../src/lifecycle/transitions.js";
import { storedForm } from "../../src/lifecycle/view.js";
import type { GrantRequest, TokenSet } from "../../src/protocol/types.js";
import { hashSecret } from "../../src/redact.js";

/**
 * The SPEC §2 guarantees that touch token state, one row each, as pure data: a state, a time,
 * what the caller wants, and the verdict or next state. No store, no clock, no network.
 */
const T0 = 1_000_000;
const HOUR = 3_600_000;
const user: GrantPolicy = { name: "crm", grant: "authorization_code", loginCommand: "tokensmith login crm" };
const app: GrantPolicy = { name: "billing", grant: "client_credentials", loginCommand: "tokensmith login billing" };
const password: GrantPolicy = { name: "legacy", grant: "password", loginCommand: "tokensmith login legacy" };
const policy = { defaultTtl: HOUR, scopes: ["read"] };

/** A state holding an access token issued at T0 that lives an hour, and a refresh token. */
const holding = (extra: Partial<TokenState> = {}): TokenState => ({ v: 1, accessToken: "at-1", tokenType: "Bearer", issuedAt: T0, expiresAt: T0 + HOUR, refreshToken: "rt-1", ...extra });
const tokens = (extra: Partial<TokenSet> = {}): TokenSet => ({ accessToken: "at-2", tokenType: "Bearer", expiresInMs: HOUR, extra: {}, ...extra });
const oauthError = (error: string) => new TokenSmithError("oauth_error", `refused: ${error}`, { error, status: 400 });

interface DecideRow {
  spec: string;
  state: TokenState | undefined;
  now: number;
  want?: Wanted;
  policy: GrantPolicy;
  expect: (v: Verdict) => void;
}

const serve = (refreshAhead: boolean) => (v: Verdict) => {
  assert.equal(v.kind, "serve");
  assert.equal(v.kind === "serve" && v.refreshAhead, refreshAhead);
};
const request = (grant: GrantRequest["kind"], check?: (v: Extract<Verdict, { kind: "request" }>) => void) => (v: Verdict) => {
  assert.equal(v.kind, "request", `expected a ${grant} request, got ${v.kind}${v.kind === "refuse" ? `: ${v.error.message}` : ""}`);
  if (v.kind === "request") {
    assert.equal(v.grant.kind, grant);
    check?.(v);
  }
};
const refuse = (code: string, message?: RegExp) => (v: Verdict) => {
  assert.equal(v.kind, "refuse");
  if (v.kind === "refuse") {
    assert.equal(v.error.code, code);
    if (message) assert.match(v.error.message, message);
  }
};

const decideRows: DecideRow[] = [
  { spec: "§2.1 a valid cached token is served without a request", state: holding(), now: T0 + 1000, policy: user, expect: serve(false) },
  { spec: "§2.3 inside the margin the token is still served, with a refresh ahead due", state: holding(), now: T0 + HOUR - 65_000, policy: user, expect: serve(true) },
  { spec: "§2.3 a background refresh inside the margin requests a refresh", state: holding(), now: T0 + HOUR - 65_000, want: { ahead: true }, policy: user, expect: request("refresh_token") },
  { spec: "§2.3 a background refresh outside the margin does nothing", state: holding(), now: T0 + 1000, want: { ahead: true }, policy: user, expect: serve(false) },
  { spec: "§2.10 a token inside the skew allowance is never handed out", state: holding(), now: T0 + HOUR - 5_000, policy: user, expect: request("refresh_token") },
  {
    spec: "§2.10 a whole-number expires_in loses a second to the server's resolution: a 2-second token is not served at 0.9 s",
    state: holding({ expiresAt: T0 + 2000, resolutionMs: 1000 }),
    now: T0 + 900,
    policy: user,
    expect: request("refresh_token"),
  },
  { spec: "§2.10 ...and is served at 0.7 s", state: holding({ expiresAt: T0 + 2000, resolutionMs: 1000 }), now: T0 + 700, policy: { ...user, refreshMarginMs: 0 }, expect: serve(false) },
  { spec: "§2.10 minTtl longer than the time left asks for a new token", state: holding(), now: T0 + 1000, want: { minTtlMs: HOUR }, policy: user, expect: request("refresh_token") },
  { spec: "§2.11 a token an API refused (by hash) is never handed out again", state: holding(), now: T0 + 1000, want: { rejectHash: hashSecret("at-1") }, policy: user, expect: request("refresh_token") },
  { spec: "§2.7 --force-refresh asks again whatever is cached", state: holding(), now: T0 + 1000, want: { forceRefresh: true }, policy: user, expect: request("refresh_token") },
  {
    spec: "§2.7 a refused refresh of a user grant is a dead end naming tokensmith login",
    state: holding({ accessToken: undefined, reauth: { at: T0, error: "invalid_grant" } }),
    now: T0 + 1000,
    policy: user,
    expect: refuse("reauthorization_required", /needs a new login/),
  },
  {
    spec: "§2.7 --force-refresh retries a flagged refresh token after an admin fix",
    state: holding({ accessToken: undefined, reauth: { at: T0, error: "invalid_grant" } }),
    now: T0 + 1000,
    want: { forceRefresh: true },
    policy: user,
    expect: request("refresh_token", (v) => assert.equal(v.grant.kind === "refresh_token" && v.grant.refreshToken, "rt-1")),
  },
  {
    spec: "§2.7 a remembered OAuth error is not asked again during its backoff",
    state: { v: 1, lastError: { code: "oauth_error", message: "invalid_client", error: "invalid_client", at: T0, until: T0 + 30_000 } },
    now: T0 + 1000,
    policy: app,
    expect: refuse("oauth_error", /invalid_client/),
  },
  {
    spec: "§2.7 after the backoff the server is asked again",
    state: { v: 1, lastError: { code: "oauth_error", message: "invalid_client", at: T0, until: T0 + 30_000 } },
    now: T0 + 31_000,
    policy: app,
    expect: request("client_credentials"),
  },
  {
    spec: "a remembered invalid_client keyed with other client credentials (a fixed secret) is not this connection's: asked again at once",
    state: { v: 1, lastError: { code: "oauth_error", message: "invalid_client", error: "invalid_client", at: T0, until: T0 + 30_000, credentials: "old-hash" } },
    now: T0 + 1000,
    policy: { ...app, credentialsHash: "new-hash" },
    expect: request("client_credentials"),
  },
  {
    spec: "a remembered invalid_client keyed with the same client credentials is refused during its backoff",
    state: { v: 1, lastError: { code: "oauth_error", message: "invalid_client", error: "invalid_client", at: T0, until: T0 + 30_000, credentials: "old-hash" } },
    now: T0 + 1000,
    policy: { ...app, credentialsHash: "old-hash" },
    expect: refuse("oauth_error", /invalid_client/),
  },
  { spec: "§2.7 a user grant with no tokens needs a login", state: undefined, now: T0, policy: user, expect: refuse("reauthorization_required", /no tokens yet/) },
  { spec: "§2.1 a client_credentials connection with no state gets its first token by itself", state: undefined, now: T0, policy: app, expect: request("client_credentials") },
  { spec: "§2.18 client_credentials never refreshes: a stored refresh token is not used", state: holding({ accessToken: undefined }), now: T0, policy: app, expect: request("client_credentials") },
  { spec: "password renews with its refresh token when it has one", state: holding({ accessToken: undefined }), now: T0, policy: password, expect: request("refresh_token") },
  {
    spec: "§2.9 a seed refresh token is used when there is no state, and counted as used",
    state: undefined,
    now: T0,
    policy: { ...user, seedRefreshToken: "seed-1" },
    expect: request("refresh_token", (v) => {
      assert.equal(v.grant.kind === "refresh_token" && v.grant.refreshToken, "seed-1");
      assert.deepEqual(v.base.seeds, [hashSecret("seed-1")]);
    }),
  },
  {
    spec: "§2.9 a used seed is never sent again",
    state: { v: 1, seeds: [hashSecret("seed-1")] },
    now: T0,
    policy: { ...user, seedRefreshToken: "seed-1" },
    expect: refuse("reauthorization_required"),
  },
  {
    spec: "§2.9 a new seed is adopted even over a flagged state (the operator's recovery path)",
    state: holding({ accessToken: undefined, reauth: { at: T0 }, seeds: [hashSecret("seed-1")] }),
    now: T0,
    policy: { ...user, seedRefreshToken: "seed-2" },
    expect: request("refresh_token", (v) => {
      assert.equal(v.grant.kind === "refresh_token" && v.grant.refreshToken, "seed-2");
      assert.equal(v.base.reauth, undefined);
    }),
  },
  {
    spec: "§2.16 a tombstone serves nothing: a user grant needs a new login",
    state: { v: 1, tombstone: { reason: "logout", at: T0 } },
    now: T0 + 1000,
    policy: user,
    expect: refuse("reauthorization_required"),
  },
  { spec: "custom grant_type is always requested as configured", state: undefined, now: T0, policy: { ...app, grantType: "fb_exchange_token" }, expect: request("custom") },
];

interface TransitionRow {
  spec: string;
  state: TokenState | undefined;
  event: StateEvent;
  expect: (next: TokenState) => void;
}

const refreshGrant: GrantRequest = { kind: "refresh_token", refreshToken: "rt-1" };
const transitionRows: TransitionRow[] = [
  {
    spec: "§2.4 a refresh answer without a refresh token keeps the one that worked",
    state: holding(),
    event: { type: "issued", tokens: tokens(), sentAt: T0 + 10, grant: refreshGrant, requests: 1, policy },
    expect: (s) => assert.equal(s.refreshToken, "rt-1"),
  },
  {
    spec: "§2.4 a rotated refresh token replaces the old one",
    state: holding(),
    event: { type: "issued", tokens: tokens({ refreshToken: "rt-2" }), sentAt: T0 + 10, grant: refreshGrant, requests: 1, policy },
    expect: (s) => assert.equal(s.refreshToken, "rt-2"),
  },
  {
    spec: "§2.10 lifetime counts from when the request was sent",
    state: undefined,
    event: { type: "issued", tokens: tokens(), sentAt: T0, grant: { kind: "client_credentials" }, requests: 1, policy },
    expect: (s) => {
      assert.equal(s.issuedAt, T0);
      assert.equal(s.expiresAt, T0 + HOUR);
    },
  },
  {
    spec: "§2.10 the resolution of a whole-number expires_in is kept with the token",
    state: undefined,
    event: { type: "issued", tokens: tokens({ resolutionMs: 1000 }), sentAt: T0, grant: { kind: "client_credentials" }, requests: 1, policy },
    expect: (s) => assert.equal(s.resolutionMs, 1000),
  },
  {
    spec: "§2.19 the stored extra fields stay bounded across refreshes",
    state: holding({ extra: { old: "x".repeat(20_000) } }),
    event: { type: "issued", tokens: tokens({ extra: { instance_url: "https://eu.example.com" } }), sentAt: T0, grant: refreshGrant, requests: 1, policy },
    expect: (s) => assert.deepEqual(s.extra, { instance_url: "https://eu.example.com" }),
  },
  {
    spec: "§2.10 no expiry from the server: default_ttl, or never",
    state: undefined,
    event: { type: "issued", tokens: tokens({ expiresInMs: undefined }), sentAt: T0, grant: { kind: "client_credentials" }, requests: 1, policy: { ...policy, defaultTtl: "never" } },
    expect: (s) => assert.equal(s.expiresAt, null),
  },
  {
    spec: "§2.18 after a fallback to the client's own grant the refused refresh token is dropped",
    state: holding(),
    event: { type: "issued", tokens: tokens(), sentAt: T0, grant: { kind: "password" }, requests: 2, policy },
    expect: (s) => {
      assert.equal(s.refreshToken, undefined);
      assert.equal(s.tokenRequests, 2);
    },
  },
  {
    spec: "a new token clears the remembered error, the dead end and the dead mark",
    state: holding({ lastError: { code: "oauth_error", message: "x", at: T0, until: T0 + 1 }, reauth: { at: T0 }, deadHash: "h" }),
    event: { type: "issued", tokens: tokens(), sentAt: T0, grant: refreshGrant, requests: 1, policy },
    expect: (s) => assert.deepEqual([s.lastError, s.reauth, s.deadHash], [undefined, undefined, undefined]),
  },
  {
    spec: "§2.7 a refused refresh keeps the refresh token, flagged",
    state: holding({ accessToken: undefined }),
    event: { type: "refresh_refused", error: oauthError("invalid_grant"), afterTimeout: true, requests: 1 },
    expect: (s) => {
      assert.equal(s.refreshToken, "rt-1");
      assert.equal(s.reauth?.error, "invalid_grant");
      assert.equal(s.reauth?.afterTimeout, true);
    },
  },
  {
    spec: "§2.7 another OAuth error is remembered for a short backoff",
    state: undefined,
    event: { type: "error_remembered", error: oauthError("invalid_client"), requests: 1 },
    expect: (s) => {
      assert.equal(s.lastError?.error, "invalid_client");
      assert.ok(s.lastError!.until > s.lastError!.at);
    },
  },
  {
    spec: "§2.11 a 401 drops the access token and keeps the refresh token",
    state: holding(),
    event: { type: "invalidated" },
    expect: (s) => {
      assert.equal(s.accessToken, undefined);
      assert.equal(s.refreshToken, "rt-1");
    },
  },
  {
    spec: "§2.11 a token refused right after issue is marked dead for a bounded time",
    state: holding(),
    event: { type: "marked_dead", hash: hashSecret("at-1"), until: T0 + 300_000 },
    expect: (s) => assert.deepEqual([s.deadHash, s.deadUntil, s.accessToken], [hashSecret("at-1"), T0 + 300_000, "at-1"]),
  },
  {
    spec: "§2.16 removing leaves a tombstone that keeps the used seeds and the counter",
    state: holding({ seeds: ["a"], tokenRequests: 7 }),
    event: { type: "removed", reason: "revoked", usedSeeds: ["b"] },
    expect: (s) => assert.deepEqual(s, { v: 1, tombstone: { reason: "revoked", at: T0 }, seeds: ["a", "b"], tokenRequests: 7 }),
  },
  {
    spec: "§2.9 a login starts a new state; the configured seed counts as used",
    state: holding({ seeds: ["a"], reauth: { at: 1 } }),
    event: { type: "logged_in", tokens: tokens({ refreshToken: "rt-9" }), sentAt: T0, requests: 1, policy, seedRefreshToken: "seed-1" },
    expect: (s) => {
      assert.equal(s.refreshToken, "rt-9");
      assert.equal(s.reauth, undefined);
      assert.deepEqual(s.seeds, ["a", hashSecret("seed-1")]);
    },
  },
  {
    spec: "an import replaces the login but keeps this machine's seeds and counter",
    state: holding({ seeds: ["a"], tokenRequests: 3 }),
    event: { type: "imported", state: holding({ refreshToken: "rt-imported", seeds: ["other"], tokenRequests: 99 }) },
    expect: (s) => assert.deepEqual([s.refreshToken, s.seeds, s.tokenRequests], ["rt-imported", ["a"], 3]),
  },
];

describe("decide(): one row per SPEC §2 guarantee", () => {
  for (const row of decideRows) {
    it(row.spec, () => row.expect(decide(row.state, row.now, row.want ?? {}, row.policy)));
  }
});

describe("transition(): one row per state change", () => {
  for (const row of transitionRows) {
    it(row.spec, () => row.expect(transition(row.state, row.event, T0)));
  }

  it("§2.8 cache: process keeps the access token out of the store, never the tombstone", () => {
    assert.equal(storedForm(holding(), "process").accessToken, undefined);
    assert.equal(storedForm(holding(), "process").refreshToken, "rt-1");
    assert.equal(storedForm(holding(), "shared").accessToken, "at-1");
  });

  it("a remembered invalid_client / unauthorized_client carries the hash of the credentials that got it; other errors do not", () => {
    const keyed = { ...app, credentialsHash: "h1" };
    for (const error of ["invalid_client", "unauthorized_client"]) {
      const event = failureEvent(oauthError(error), { kind: "client_credentials" }, keyed, 1, false);
      assert.equal(event?.type === "error_remembered" && event.credentials, "h1");
      assert.equal(transition(undefined, event!, T0).lastError?.credentials, "h1");
    }
    const scope = failureEvent(oauthError("invalid_scope"), { kind: "client_credentials" }, keyed, 1, false);
    assert.equal(scope?.type === "error_remembered" && scope.credentials, undefined);
  });

  it("§2.7 non-interactive grants never enter the dead end: invalid_grant is remembered, not flagged", () => {
    assert.equal(failureEvent(oauthError("invalid_grant"), refreshGrant, app, 1, false)?.type, "error_remembered");
    assert.equal(failureEvent(oauthError("invalid_grant"), refreshGrant, user, 1, false)?.type, "refresh_refused");
    assert.equal(failureEvent(new TokenSmithError("invalid_response", "not JSON"), refreshGrant, user, 1, false), undefined);
  });
});

describe("requestWithRecovery(): stale reads and fallbacks", () => {
  const refusing = (accept: (g: GrantRequest) => boolean) => {
    const sent: GrantRequest[] = [];
    const send = async (g: GrantRequest) => {
      sent.push(g);
      if (!accept(g)) throw oauthError("invalid_grant");
      return { tokens: tokens(), sentAt: T0 };
    };
    return { sent, send };
  };

  it("§2.6 retries once with the refresh token another process stored", async () => {
    const { sent, send } = refusing((g) => g.kind === "refresh_token" && g.refreshToken === "rt-2");
    const answer = await requestWithRecovery(refreshGrant, send, async () => holding({ refreshToken: "rt-2" }), user);
    assert.deepEqual(sent.map((g) => g.kind === "refresh_token" && g.refreshToken), ["rt-1", "rt-2"]);
    assert.equal(answer.grant.kind, "refresh_token");
  });

  it("§2.7 a user grant whose refresh is refused, with nothing newer stored, fails", async () => {
    const { send } = refusing(() => false);
    await assert.rejects(requestWithRecovery(refreshGrant, send, async () => holding(), user), /invalid_grant/);
  });

  it("§2.18 client_credentials falls back to its own grant on any OAuth error of a refresh", async () => {
    const sent: GrantRequest[] = [];
    const send = async (g: GrantRequest) => {
      sent.push(g);
      if (g.kind === "refresh_token") throw new TokenSmithError("oauth_error", "unsupported_grant_type", { error: "unsupported_grant_type", status: 400 });
      return { tokens: tokens(), sentAt: T0 };
    };
    const answer = await requestWithRecovery(refreshGrant, send, async () => holding(), password);
    assert.deepEqual(sent.map((g) => g.kind), ["refresh_token", "password"]);
    assert.equal(answer.grant.kind, "password");
  });

  it("§2.18 password falls back to its own grant when its refresh is refused", async () => {
    const { sent, send } = refusing((g) => g.kind === "password");
    const answer = await requestWithRecovery(refreshGrant, send, async () => holding(), password);
    assert.deepEqual(sent.map((g) => g.kind), ["refresh_token", "password"]);
    assert.equal(answer.grant.kind, "password");
  });
});

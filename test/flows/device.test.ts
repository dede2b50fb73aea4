import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { describe, it, type TestContext } from "node:test";
import { TokenSmithError } from "../../src/errors.js";
import { deviceFlow, type DeviceProgress, type UserCodeInfo } from "../../src/flows/device.js";
import { ManualClock } from "../support/clock.js";
import { connection, startServer } from "../protocol/helpers.js";

/** One scripted answer of the token endpoint to a poll. */
type Answer = [status: number, body: Record<string, unknown>];

const TOKENS: Answer = [200, { access_token: "device-access-token", token_type: "Bearer", expires_in: 3600, refresh_token: "device-refresh-token" }];
const PENDING: Answer = [400, { error: "authorization_pending" }];
const SLOW_DOWN: Answer = [400, { error: "slow_down" }];

function json(res: ServerResponse, [status, body]: Answer) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/**
 * A device authorization server whose token endpoint answers polls from `answers` in turn,
 * recording when (on the test clock) each poll came.
 */
async function deviceServer(t: TestContext, clock: ManualClock, answers: Answer[], authorization: Record<string, unknown> = {}) {
  const pollTimes: number[] = [];
  const started = clock.now();
  const server = await startServer((req, res) => {
    if (req.path === "/device") {
      return json(res, [200, { device_code: "dev-code-123456", user_code: "WDJB-MJHT", verification_uri: "https://auth.example.com/device", verification_uri_complete: "https://auth.example.com/device?user_code=WDJB-MJHT", expires_in: 600, interval: 5, ...authorization }]);
    }
    pollTimes.push(clock.now() - started);
    return json(res, answers.shift() ?? PENDING);
  });
  t.after(() => server.close());
  const conn = connection({ name: "tv", grant: "device_code", clientAuth: "none", clientSecret: undefined, clientId: "tv-app", scopes: ["openid"], allowInsecureHttp: true });
  const endpoints = { tokenUrl: `${server.url}/token`, deviceAuthorizationUrl: `${server.url}/device` };
  return { conn, endpoints, pollTimes, fetch: (url: string, init: RequestInit) => fetch(url, init) };
}

function flow(setup: Awaited<ReturnType<typeof deviceServer>>, clock: ManualClock, extra: Partial<Parameters<typeof deviceFlow>[0]> = {}) {
  return deviceFlow({ conn: setup.conn, endpoints: setup.endpoints, fetch: setup.fetch, clock, timeoutMs: 300_000, ...extra });
}

describe("the device flow", () => {
  it("shows the user code, opens verification_uri_complete, and polls at the announced interval until approved", async (t) => {
    const clock = new ManualClock();
    const setup = await deviceServer(t, clock, [PENDING, PENDING, TOKENS]);
    const shown: UserCodeInfo[] = [];
    const opened: string[] = [];
    const result = await flow(setup, clock, {
      onUserCode: (info) => void shown.push(info),
      openUrl: async (url) => (opened.push(url), true),
    });
    assert.equal(result.tokens.accessToken, "device-access-token");
    assert.equal(result.requests, 3);
    assert.deepEqual(setup.pollTimes, [5_000, 10_000, 15_000]);
    assert.deepEqual(opened, ["https://auth.example.com/device?user_code=WDJB-MJHT"]);
    assert.equal(shown.length, 1);
    assert.deepEqual({ ...shown[0], deadline: undefined }, {
      userCode: "WDJB-MJHT",
      verificationUri: "https://auth.example.com/device",
      verificationUriComplete: "https://auth.example.com/device?user_code=WDJB-MJHT",
      expiresIn: 600,
      deadline: undefined,
      browserOpened: true,
    });
  });

  it("opens nothing without an opener (--no-browser)", async (t) => {
    const clock = new ManualClock();
    const setup = await deviceServer(t, clock, [TOKENS]);
    let info: UserCodeInfo | undefined;
    await flow(setup, clock, { onUserCode: (i) => void (info = i) });
    assert.equal(info?.browserOpened, false);
  });

  it("adds 5 s to the interval after each slow_down, for the rest of the login", async (t) => {
    const clock = new ManualClock();
    const setup = await deviceServer(t, clock, [PENDING, SLOW_DOWN, PENDING, SLOW_DOWN, PENDING, TOKENS]);
    const progress: DeviceProgress[] = [];
    await flow(setup, clock, { onProgress: (p) => void progress.push(p) });
    // 5, 5, then 10, then 10 again, then 15, 15.
    assert.deepEqual(setup.pollTimes, [5_000, 10_000, 20_000, 30_000, 45_000, 60_000]);
    assert.deepEqual(
      progress.map((p) => [p.status, p.intervalMs]),
      [["pending", 5_000], ["slow_down", 10_000], ["pending", 10_000], ["slow_down", 15_000], ["pending", 15_000]],
    );
  });

  it("defaults to a 5 s interval when the server names none", async (t) => {
    const clock = new ManualClock();
    const setup = await deviceServer(t, clock, [PENDING, TOKENS], { interval: undefined });
    await flow(setup, clock);
    assert.deepEqual(setup.pollTimes, [5_000, 10_000]);
  });

  it("honours a longer interval from the server", async (t) => {
    const clock = new ManualClock();
    const setup = await deviceServer(t, clock, [PENDING, TOKENS], { interval: 12 });
    await flow(setup, clock);
    assert.deepEqual(setup.pollTimes, [12_000, 24_000]);
  });

  it("reports access_denied as an oauth_error", async (t) => {
    const clock = new ManualClock();
    const setup = await deviceServer(t, clock, [PENDING, [400, { error: "access_denied", error_description: "the user said no" }]]);
    await assert.rejects(flow(setup, clock), (err: unknown) => {
      assert.ok(err instanceof TokenSmithError);
      assert.equal(err.code, "oauth_error");
      assert.equal(err.error, "access_denied");
      assert.match(err.message, /denied \(access_denied\): the user said no/);
      return true;
    });
  });

  it("reports expired_token as login_timeout", async (t) => {
    const clock = new ManualClock();
    const setup = await deviceServer(t, clock, [PENDING, [400, { error: "expired_token" }]]);
    await assert.rejects(flow(setup, clock), (err: unknown) => err instanceof TokenSmithError && err.code === "login_timeout" && /device code expired/.test(err.message));
  });

  it("stops polling when the device code's lifetime is over, without asking again", async (t) => {
    const clock = new ManualClock();
    const setup = await deviceServer(t, clock, [], { expires_in: 12 });
    await assert.rejects(flow(setup, clock), (err: unknown) => err instanceof TokenSmithError && err.code === "login_timeout" && /device code expired/.test(err.message));
    assert.deepEqual(setup.pollTimes, [5_000, 10_000]);
  });

  it("gives up with login_timeout at the login's timeout when that comes first", async (t) => {
    const clock = new ManualClock();
    const setup = await deviceServer(t, clock, []);
    await assert.rejects(flow(setup, clock, { timeoutMs: 21_000 }), (err: unknown) => {
      assert.ok(err instanceof TokenSmithError);
      assert.equal(err.code, "login_timeout");
      assert.match(err.message, /not approved within 21 s/);
      return true;
    });
    assert.deepEqual(setup.pollTimes, [5_000, 10_000, 15_000, 20_000]);
  });

  it("keeps polling at the same pace through a transient server error", async (t) => {
    const clock = new ManualClock();
    const setup = await deviceServer(t, clock, [[503, { message: "maintenance" }], TOKENS]);
    const progress: string[] = [];
    const result = await flow(setup, clock, { onProgress: (p) => void progress.push(p.status) });
    assert.equal(result.tokens.accessToken, "device-access-token");
    assert.deepEqual(setup.pollTimes, [5_000, 10_000]);
    assert.deepEqual(progress, ["retrying"]);
  });

  it("stops at once when the caller aborts", async (t) => {
    const clock = new ManualClock();
    const setup = await deviceServer(t, clock, []);
    const controller = new AbortController();
    const reason = new Error("cancelled by the test");
    const running = flow(setup, clock, { signal: controller.signal, onProgress: (p) => (p.polls === 2 ? controller.abort(reason) : undefined) });
    await assert.rejects(running, (err: unknown) => err === reason);
    assert.equal(setup.pollTimes.length, 2);
  });
});

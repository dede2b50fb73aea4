import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import type { Clock } from "../../src/clock.js";
import { demoConfig } from "../../src/demo/config.js";
import type { DemoServerOptions } from "../../src/demo/server.js";
import { TokenSmithError } from "../../src/errors.js";
import type { DeviceProgress } from "../../src/flows/device.js";
import type { TokenState } from "../../src/lifecycle/state.js";
import type { FetchLike } from "../../src/protocol/types.js";
import { hashSecret } from "../../src/redact.js";
import { TokenSmith } from "../../src/tokensmith.js";
import { callApi, tmpDir, withDemoServer } from "../support/demo.js";
import { browse, type BrowseMode } from "./fixtures/browser.mjs";
import { demoLoginConfig } from "./login-config.js";
import { internals } from "../../src/lifecycle/handle.js";

/** A demo server with autoLogin, and a TokenSmith on its config (file store) with a confidential-client connection added. */
async function setup(t: TestContext, options: DemoServerOptions = {}, load: { fetch?: FetchLike; clock?: Clock } = {}) {
  const server = await withDemoServer(t, { autoLogin: true, ...options });
  const config = demoLoginConfig(server, join(await tmpDir(t), "store"));
  const ts = await TokenSmith.load({ config, env: {}, ...load });
  t.after(() => ts.close());
  return { server, ts };
}

/** An opener that sends the stand-in browser off (without waiting: the login answers it). */
const browser = (mode: BrowseMode = "follow") => async (url: string) => {
  void browse(url, { mode });
  return true;
};

async function storedState(ts: TokenSmith, name: string): Promise<TokenState | undefined> {
  const { store, manager } = await internals(ts.connection(name)).setup();
  return (await store.get<TokenState>(manager.key))?.value;
}

function isCode(code: string, error?: string) {
  return (err: unknown) => err instanceof TokenSmithError && err.code === code && (error === undefined || err.error === error);
}

describe("logging in through the browser against the demo server", () => {
  for (const [name, client] of [
    ["demo-user", "a public client (PKCE, no secret)"],
    ["demo-confidential", "a confidential client (client_secret_basic)"],
  ] as const) {
    it(`stores tokens for ${client} that the API accepts, with no further login`, async (t) => {
      const { server, ts } = await setup(t);
      const shown: { url: string; browserOpened: boolean }[] = [];
      const result = await ts.connection(name).login({ openUrl: browser(), onAuthorizationUrl: (url, info) => void shown.push({ url, browserOpened: info.browserOpened }) });
      assert.equal(result.connection, name);
      assert.equal(result.flow, "browser");
      assert.equal(result.hasRefreshToken, true);
      assert.equal(result.completedElsewhere, false);
      assert.ok(result.expiresAt && result.expiresAt.getTime() > Date.now());
      assert.equal(shown.length, 1);
      assert.equal(shown[0].browserOpened, true);
      const url = new URL(shown[0].url);
      assert.equal(url.searchParams.get("code_challenge_method"), "S256");
      assert.ok((url.searchParams.get("state") ?? "").length >= 43, "a high-entropy state");
      assert.ok(url.searchParams.get("nonce"), "scope openid brings a nonce");

      const token = await ts.connection(name).accessToken();
      assert.equal((await callApi(server, "/whoami", token)).body.sub, "demo");
      assert.equal(server.stats.byGrant.authorization_code, 1);
      const state = await storedState(ts, name);
      assert.ok(state?.refreshToken && state.idToken);
    });
  }

  it("refuses a callback without iss, because the demo's metadata says it always sends one", async (t) => {
    const { server, ts } = await setup(t);
    await assert.rejects(ts.connection("demo-user").login({ openUrl: browser("no-iss") }), isCode("oauth_error", "iss_mismatch"));
    assert.equal(server.stats.tokenRequests, 0, "the code was never exchanged");
    assert.equal(await storedState(ts, "demo-user"), undefined);
  });

  it("reports a sign-in cancelled at the provider as access_denied", async (t) => {
    const { ts } = await setup(t);
    await assert.rejects(ts.connection("demo-user").login({ openUrl: browser("deny") }), (err: unknown) => {
      assert.ok(isCode("oauth_error", "access_denied")(err));
      assert.match((err as Error).message, /End-User cancelled the sign-in/);
      return true;
    });
  });

  it("replaces a state that needed a login, keeping only its used seeds and counters", async (t) => {
    const { ts } = await setup(t);
    const connection = ts.connection("demo-user");
    const { manager, ctx } = await internals(connection).setup();
    await manager.write(ctx, () => ({ v: 1, refreshToken: "old-refused-refresh-token", reauth: { at: 1, error: "invalid_grant" }, seeds: ["used-seed-hash"], tokenRequests: 7 }));
    await connection.login({ openUrl: browser() });
    const state = await storedState(ts, "demo-user");
    assert.equal(state?.reauth, undefined);
    assert.notEqual(state?.refreshToken, "old-refused-refresh-token");
    assert.deepEqual(state?.seeds, ["used-seed-hash"]);
    assert.equal(state?.tokenRequests, 8);
    assert.equal((await connection.status()).state, "valid");
  });

  it("counts a configured seed refresh token as used, so it never replaces the login", async (t) => {
    const server = await withDemoServer(t, { autoLogin: true });
    const config: any = demoConfig(server, { dir: join(await tmpDir(t), "store") });
    config.connections["demo-user"].refresh_token = "a-seed-from-elsewhere";
    const ts = await TokenSmith.load({ config, env: {} });
    t.after(() => ts.close());
    await ts.connection("demo-user").login({ openUrl: browser() });
    assert.deepEqual((await storedState(ts, "demo-user"))?.seeds, [hashSecret("a-seed-from-elsewhere")]);
    await ts.connection("demo-user").token({ forceRefresh: true });
    assert.equal(server.stats.byOutcome.invalid_grant ?? 0, 0, "the seed was never sent");
  });

  it("refuses connections whose grant needs no person", async (t) => {
    const { ts } = await setup(t);
    await assert.rejects(ts.connection("demo-service").login(), isCode("usage_error"));
  });
});

describe("one login at a time", () => {
  it("says login in progress (pid@host) to a second login, while token fails at once without waiting", async (t) => {
    const { ts } = await setup(t);
    const connection = ts.connection("demo-user");
    let url!: string;
    const urlShown = new Promise<void>((resolve) => {
      void connection
        .login({ openUrl: async () => false, onAuthorizationUrl: (u) => ((url = u), resolve()) })
        .catch(() => undefined);
    });
    await urlShown;
    await assert.rejects(connection.login({ openUrl: browser() }), (err: unknown) => {
      assert.ok(isCode("login_in_progress")(err));
      assert.match((err as Error).message, new RegExp(`login in progress \\(${process.pid}@[^)]+\\)`));
      assert.match((err as TokenSmithError).hint ?? "", /--wait/);
      return true;
    });
    const started = Date.now();
    await assert.rejects(connection.token(), isCode("reauthorization_required"));
    assert.ok(Date.now() - started < 1_000, "token did not wait for the login");
    await browse(url);
  });

  it("with wait, waits for the login in progress and takes its result instead of starting another", async (t) => {
    const { server, ts } = await setup(t);
    const connection = ts.connection("demo-user");
    let url!: string;
    let first!: Promise<unknown>;
    await new Promise<void>((resolve) => {
      first = connection.login({ openUrl: async () => false, onAuthorizationUrl: (u) => ((url = u), resolve()) });
    });
    let waitingFor: string | undefined;
    const second = connection.login({ wait: true, onWaiting: (holder) => (waitingFor = holder), openUrl: browser() });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await browse(url);
    await first;
    const result = await second;
    assert.equal(result.completedElsewhere, true);
    assert.match(waitingFor ?? "", new RegExp(`^${process.pid}@`));
    assert.equal(server.stats.byGrant.authorization_code, 1, "one login, one code exchange");
    assert.ok(await connection.accessToken());
  });

  it("lets the next login start once a login has timed out", async (t) => {
    const { ts } = await setup(t);
    const connection = ts.connection("demo-user");
    await assert.rejects(connection.login({ openUrl: browser("ignore"), timeoutMs: 200 }), isCode("login_timeout"));
    assert.equal((await connection.login({ openUrl: browser() })).hasRefreshToken, true);
  });
});

describe("manual and device logins against the demo server", () => {
  it("manual: exchanges the code from a pasted redirect URL, checking its state", async (t) => {
    const { server, ts } = await setup(t);
    let pasted!: Promise<string | undefined>;
    const result = await ts.connection("demo-user").login({
      flow: "manual",
      onAuthorizationUrl: (url, info) => {
        assert.equal(info.browserOpened, false);
        assert.equal(info.redirectUri, "http://127.0.0.1/callback");
        pasted = browse(url, { mode: "capture" });
      },
      readPastedUrl: async () => `  ${await pasted}  \n`,
    });
    assert.equal(result.flow, "manual");
    assert.equal((await callApi(server, "/whoami", await ts.connection("demo-user").accessToken())).status, 200);
  });

  it("manual: refuses a pasted URL with another state", async (t) => {
    const { ts } = await setup(t);
    let pasted!: Promise<string | undefined>;
    const login = ts.connection("demo-user").login({
      flow: "manual",
      onAuthorizationUrl: (url) => void (pasted = browse(url, { mode: "capture" })),
      readPastedUrl: async () => (await pasted)!.replace(/state=[^&]+/, "state=another-login"),
    });
    await assert.rejects(login, isCode("oauth_error", "state_mismatch"));
  });

  it("manual: needs a way to read the paste", async (t) => {
    const { ts } = await setup(t);
    await assert.rejects(ts.connection("demo-user").login({ flow: "manual" }), isCode("usage_error"));
  });

  it("device: honours slow_down (+5 s) and gets the tokens once approved", async (t) => {
    // The demo enforces 1 s between polls; announcing 0.2 s makes tokensmith's second poll early, so it gets slow_down.
    const announceFastPolling: FetchLike = async (url, init) => {
      const response = await fetch(url, init);
      if (!url.endsWith("/device/auth")) return response;
      const body = { ...(await response.json()), interval: 0.2 };
      return new Response(JSON.stringify(body), { status: response.status, headers: response.headers });
    };
    // Time runs twice as fast for the client, so the 5.2 s wait after slow_down takes 2.6 s (the demo then wants 2 s).
    const t0 = Date.now();
    const fast: Clock = { now: () => t0 + (Date.now() - t0) * 2, sleep: (ms, signal) => new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, ms / 2);
      signal?.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)), { once: true });
    }) };
    const { server, ts } = await setup(t, { devicePolling: { interval: 1, slowDownStep: 1 } }, { fetch: announceFastPolling, clock: fast });
    const progress: DeviceProgress[] = [];
    let userCode = "";
    const result = await ts.connection("demo-user").login({
      flow: "device",
      openBrowser: false,
      onUserCode: (info) => void (userCode = info.userCode),
      onDeviceProgress: (p) => {
        progress.push(p);
        if (p.status === "slow_down") void server.approveDeviceCode(userCode);
      },
    });
    assert.equal(result.flow, "device");
    assert.deepEqual(progress.map((p) => [p.status, p.intervalMs]), [["pending", 200], ["slow_down", 5_200]]);
    assert.equal(server.stats.byOutcome.slow_down, 1);
    assert.equal(server.stats.byOutcome.ok, 1);
    assert.equal((await callApi(server, "/whoami", await ts.connection("demo-user").accessToken())).status, 200);
  });
});

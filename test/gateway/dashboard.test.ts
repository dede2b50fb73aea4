import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { TICKET_TTL_MS } from "../../src/gateway/auth.js";
import { loginLockKey } from "../../src/lifecycle/runtime.js";
import { createFileStore } from "../../src/store/file.js";
import { ManualClock } from "../support/clock.js";
import { assertMatchesSchema } from "../support/json-schema.js";
import { LIMITED_KEY, signIn, withDemoGateway } from "./support.js";
import { internals } from "../../src/lifecycle/handle.js";

/** Follows redirects by hand (no cookies), until one points at `stopAt`. */
async function followUntil(start: string, stopAt: string): Promise<URL> {
  let res = await fetch(start, { redirect: "manual" });
  for (let hops = 0; hops < 10; hops++) {
    const location = res.headers.get("location");
    assert.ok(location, `expected a redirect, got ${res.status}`);
    const next = new URL(location, start);
    if (next.href.startsWith(stopAt)) return next;
    res = await fetch(next, { redirect: "manual" });
    start = next.href;
  }
  throw new Error("too many redirects");
}

describe("the dashboard", () => {
  it("signs in once per one-time URL with a SameSite=Strict, HttpOnly session cookie", async (t) => {
    const { gateway } = await withDemoGateway(t);
    assert.match(gateway.signInUrl, /\/login\?token=[A-Za-z0-9_-]{43}$/);
    const first = await fetch(gateway.signInUrl, { redirect: "manual" });
    assert.equal(first.status, 303);
    assert.equal(first.headers.get("location"), "/");
    const cookie = first.headers.get("set-cookie") ?? "";
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.match(cookie, /Path=\//);
    const again = await fetch(gateway.signInUrl, { redirect: "manual" });
    assert.equal(again.status, 401, "the one-time URL works once");
    assert.equal(again.headers.get("set-cookie"), null);
    const page = await fetch(`${gateway.url}/`, { headers: { cookie: cookie.split(";")[0] } });
    assert.equal(page.status, 200);
    const noSession = await fetch(`${gateway.url}/`);
    assert.equal(noSession.status, 401);
    assert.match(await noSession.text(), /one-time sign-in URL/);
  });

  it("refuses a sign-in URL opened after 5 minutes, and sends a signed-in browser opening a used one to the dashboard", async (t) => {
    const clock = new ManualClock(Date.now());
    const { gateway } = await withDemoGateway(t, { clock });
    clock.advance(TICKET_TTL_MS);
    const fresh = gateway.newSignInUrl();
    const stale = await fetch(gateway.signInUrl, { redirect: "manual" });
    assert.equal(stale.status, 401, "the URL printed at start is dead after 5 minutes");
    assert.equal(stale.headers.get("set-cookie"), null);
    assert.match(await stale.text(), /expired/);
    const used = await fetch(fresh, { redirect: "manual" });
    assert.equal(used.status, 303, "a URL minted later still has its own 5 minutes");
    const cookie = (used.headers.get("set-cookie") ?? "").split(";")[0];
    const again = await fetch(fresh, { redirect: "manual", headers: { cookie } });
    assert.equal(again.status, 303, "the browser that spent it goes on to the dashboard");
    assert.equal(again.headers.get("location"), "/");
    assert.equal(again.headers.get("set-cookie"), null, "no new session for a spent URL");
  });

  it("is one self-contained page under a strict Content-Security-Policy", async (t) => {
    const { gateway } = await withDemoGateway(t);
    const { cookie } = await signIn(gateway);
    const res = await fetch(`${gateway.url}/`, { headers: { cookie } });
    const csp = res.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
    assert.match(csp, /connect-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    const html = await res.text();
    assert.doesNotMatch(html, /\b(src|href)="(https?:)?\/\//, "nothing is loaded from elsewhere");
    assert.equal(res.headers.get("x-frame-options"), "DENY");
    assert.equal(res.headers.get("referrer-policy"), "no-referrer");
  });

  it("refuses a session's POST without the CSRF token or from another origin, and accepts the header or form field", async (t) => {
    const { gateway } = await withDemoGateway(t);
    const { cookie, csrf } = await signIn(gateway);
    const refresh = `${gateway.url}/v1/connections/demo-service/refresh`;
    const without = await fetch(refresh, { method: "POST", headers: { cookie } });
    assert.equal(without.status, 403);
    assert.equal((await without.json()).error.code, "csrf_failed");
    const wrong = await fetch(refresh, { method: "POST", headers: { cookie, "x-csrf-token": "guess" } });
    assert.equal(wrong.status, 403);
    const crossOrigin = await fetch(refresh, { method: "POST", headers: { cookie, "x-csrf-token": csrf, origin: "http://127.0.0.1:1" } });
    assert.equal(crossOrigin.status, 403);
    assert.equal((await fetch(refresh, { method: "POST", headers: { cookie, "x-csrf-token": csrf } })).status, 200);
    const form = await fetch(refresh, {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf }),
    });
    assert.equal(form.status, 200);
  });

  it("Test asks again at once and names the dashboard's buttons for a session, CLI commands for a key; every row has its health", async (t) => {
    const { gateway, api } = await withDemoGateway(t);
    const { cookie, csrf } = await signIn(gateway);
    const viaSession = await fetch(`${gateway.url}/v1/connections/demo-user/test`, { method: "POST", headers: { cookie, "x-csrf-token": csrf } });
    const diagnosis = await viaSession.json();
    assert.equal(diagnosis.ok, false);
    assert.deepEqual(diagnosis.steps.map((s: any) => [s.step, s.ok]), [["settings", true], ["endpoints", true], ["token", false]]);
    assert.match(diagnosis.cause, /no login has been made yet/);
    assert.match(diagnosis.hint, /press Authorize/);
    const viaKey = await api("/v1/connections/demo-user/test", { method: "POST" });
    assert.match(viaKey.body.hint, /run `tokensmith login demo-user`/);
    // A key asks again with ?force_refresh=1: a new token although one is cached.
    await api("/v1/connections/demo-service/token");
    const before = (await api("/v1/connections/demo-service")).body.token_requests;
    assert.equal((await api("/v1/connections/demo-service/test", { method: "POST" })).body.ok, true);
    assert.equal((await api("/v1/connections/demo-service")).body.token_requests, before, "a plain test reuses the token");
    assert.equal((await api("/v1/connections/demo-service/test?force_refresh=1", { method: "POST" })).body.ok, true);
    assert.equal((await api("/v1/connections/demo-service")).body.token_requests, before + 1);
    const rows = (await api("/v1/connections")).body as { connection: string; health: { status: string } }[];
    assert.deepEqual(rows.map((r) => [r.connection, r.health.status]), [["demo-service", "ready"], ["demo-user", "login_required"], ["demo-password", "none"], ["demo-jwt", "none"]]);
  });

  it("lets a session see statuses but never read a token", async (t) => {
    const { gateway } = await withDemoGateway(t);
    const { cookie } = await signIn(gateway);
    const list = await fetch(`${gateway.url}/v1/connections`, { headers: { cookie } });
    assert.equal(list.status, 200);
    const names = (await list.json()).map((c: any) => c.connection);
    assert.deepEqual(names, ["demo-service", "demo-user", "demo-password", "demo-jwt"]);
    assert.equal((await fetch(`${gateway.url}/v1/connections/demo-service/token`, { headers: { cookie } })).status, 403);
  });

  it("mints new one-time sign-in URLs for key holders, limited like the key", async (t) => {
    const { gateway, api } = await withDemoGateway(t);
    const minted = await api("/v1/sign-in", { method: "POST", key: LIMITED_KEY });
    assert.equal(minted.status, 200);
    assert.ok(minted.body.url.startsWith(`${gateway.url}/login?token=`));
    assertMatchesSchema("gateway-sign-in", minted.body);
    const cookie = ((await fetch(minted.body.url, { redirect: "manual" })).headers.get("set-cookie") ?? "").split(";")[0];
    const list = await (await fetch(`${gateway.url}/v1/connections`, { headers: { cookie } })).json();
    assert.deepEqual(list.map((c: any) => c.connection), ["demo-service"]);
    const { cookie: full } = await signIn(gateway);
    assert.equal((await fetch(`${gateway.url}/v1/sign-in`, { method: "POST", headers: { cookie: full } })).status, 403, "a session cannot mint sessions");
  });

  it("opens for an API key too, with a session limited like the key for the page's own requests", async (t) => {
    const { gateway } = await withDemoGateway(t);
    const page = await fetch(`${gateway.url}/`, { headers: { authorization: `Bearer ${LIMITED_KEY}` } });
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    const cookie = page.headers.get("set-cookie") ?? "";
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const list = await (await fetch(`${gateway.url}/v1/connections`, { headers: { cookie: cookie.split(";")[0] } })).json();
    assert.deepEqual(list.map((c: any) => c.connection), ["demo-service"]);
    assert.equal((await fetch(`${gateway.url}/`, { headers: { authorization: "Bearer not-a-key-0123456789" } })).status, 401);
    const again = await fetch(`${gateway.url}/`, { headers: { authorization: `Bearer ${LIMITED_KEY}` } });
    assert.equal(again.headers.get("set-cookie")?.split(";")[0], cookie.split(";")[0], "one session per key, however often it polls");
  });

  it("authorizes a connection in the browser through its own /callback, and refuses a replayed callback", async (t) => {
    const { gateway, api } = await withDemoGateway(t, { demo: { autoLogin: true } });
    const { cookie } = await signIn(gateway);
    assert.equal((await api("/v1/connections/demo-user/token")).status, 409);
    const before = (await api("/v1/connections/demo-user")).body;
    assert.deepEqual(before.authorize, { available: true, redirect_uri: `${gateway.url}/callback` });
    const start = await fetch(`${gateway.url}/authorize/demo-user`, { headers: { cookie }, redirect: "manual" });
    assert.equal(start.status, 303);
    const authorizationUrl = new URL(start.headers.get("location")!);
    assert.equal(authorizationUrl.searchParams.get("redirect_uri"), `${gateway.url}/callback`);
    assert.equal(authorizationUrl.searchParams.get("code_challenge_method"), "S256");
    const callback = await followUntil(authorizationUrl.href, `${gateway.url}/callback`);
    const done = await fetch(callback);
    assert.equal(done.status, 200);
    assert.match(await done.text(), /demo-user is authorized/);
    const token = await api("/v1/connections/demo-user/token");
    assert.equal(token.status, 200);
    assert.equal((await api("/v1/connections/demo-user")).body.has_refresh_token, true);
    const replay = await fetch(callback);
    assert.equal(replay.status, 400, "state is single use");
    assert.equal((await fetch(`${gateway.url}/authorize/demo-user`, { redirect: "manual" })).status, 401, "starting needs a session or key");
  });

  it("refuses a callback whose iss names another issuer (mix-up) and stores nothing", async (t) => {
    const { gateway, api } = await withDemoGateway(t, { demo: { autoLogin: true } });
    const { cookie } = await signIn(gateway);
    const start = await fetch(`${gateway.url}/authorize/demo-user`, { headers: { cookie }, redirect: "manual" });
    const callback = await followUntil(start.headers.get("location")!, `${gateway.url}/callback`);
    callback.searchParams.set("iss", "https://attacker.example");
    const res = await fetch(callback);
    assert.equal(res.status, 502);
    assert.match(await res.text(), /attacker\.example/);
    assert.equal((await api("/v1/connections/demo-user/token")).status, 409, "no tokens were stored");
  });

  it("refuses to start while a `tokensmith login` holds the connection's login lock", async (t) => {
    const { gateway, dir } = await withDemoGateway(t, { demo: { autoLogin: true } });
    const { fingerprint } = await internals(gateway.tokensmith.connection("demo-user")).setup();
    const other = await createFileStore({ dir: join(dir, "store") });
    t.after(() => other.close());
    let release!: () => void;
    let held!: () => void;
    const holding = new Promise<void>((resolve) => (held = resolve));
    const login = other.update(loginLockKey(fingerprint), () => {
      held();
      return new Promise<undefined>((resolve) => (release = () => resolve(undefined)));
    }, { mode: "wait", holder: "4242@laptop" });
    await holding;
    const { cookie } = await signIn(gateway);
    const start = await fetch(`${gateway.url}/authorize/demo-user`, { headers: { cookie }, redirect: "manual" });
    assert.equal(start.status, 409);
    assert.match(await start.text(), /login in progress \(4242@laptop\)/);
    release();
    await login;
    assert.equal((await fetch(`${gateway.url}/authorize/demo-user`, { headers: { cookie }, redirect: "manual" })).status, 303);
  });

  it("says to use `tokensmith login --manual` when the redirect URI points elsewhere", async (t) => {
    const { gateway, api } = await withDemoGateway(t, {
      patch: (config) => {
        config.connections["demo-user"].redirect_uri = "http://127.0.0.1:9/elsewhere";
      },
    });
    const status = (await api("/v1/connections/demo-user")).body;
    assert.equal(status.authorize.available, false);
    assert.equal(status.authorize.manual, "tokensmith login demo-user --manual");
    const { cookie } = await signIn(gateway);
    const start = await fetch(`${gateway.url}/authorize/demo-user`, { headers: { cookie }, redirect: "manual" });
    assert.equal(start.status, 409);
    assert.match(await start.text(), /tokensmith login demo-user --manual/);
  });
});

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test, type TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { DemoServer } from "../../src/demo/server.js";
import { callApi, postForm, withDemoServer } from "../support/demo.js";

const DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code";
const MS_PER_S = 1000;
/** Slack on top of a polling interval, so a poll is not early by a timer's jitter. */
const POLL_SLACK_MS = 100;

/** A loopback redirect URI whose listener records the one callback it gets, like `tokensmith login`. */
async function loopbackCallback(t: TestContext): Promise<{ redirectUri: string; received: () => URL | undefined }> {
  let received: URL | undefined;
  const server = createServer((req, res) => {
    received = new URL(req.url ?? "/", "http://127.0.0.1");
    res.end("done");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { redirectUri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`, received: () => received };
}

function pkcePair() {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

function authorizationUrl(server: DemoServer, redirectUri: string, extra: Record<string, string>): string {
  const url = new URL(server.endpoints.authorization);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: server.clients.public.clientId,
    redirect_uri: redirectUri,
    scope: "openid offline_access api:read",
    state: "state-123",
    ...extra,
  }).toString();
  return url.href;
}

/** Follows redirects by hand, keeping no cookies, until one points at `stopAt`. */
async function followUntil(start: string, stopAt: string, init: RequestInit = {}): Promise<URL> {
  let res = await fetch(start, { ...init, redirect: "manual" });
  for (;;) {
    const location = res.headers.get("location");
    assert.ok(location, `expected a redirect, got ${res.status}`);
    const next = new URL(location, res.url || start);
    if (next.href.startsWith(stopAt)) return next;
    res = await fetch(next, { redirect: "manual" });
  }
}

test("a fetch-only browser completes the authorization code flow with autoLogin, PKCE and iss", async (t) => {
  const server = await withDemoServer(t, { autoLogin: true });
  const callback = await loopbackCallback(t);
  const { verifier, challenge } = pkcePair();
  const browser = await fetch(authorizationUrl(server, callback.redirectUri, { code_challenge: challenge, code_challenge_method: "S256" }));
  assert.equal(browser.status, 200);

  const received = callback.received();
  assert.ok(received, "the callback was reached");
  const params = received.searchParams;
  assert.ok(params.get("code"));
  assert.equal(params.get("state"), "state-123");
  assert.equal(params.get("iss"), server.issuer);

  const exchange = (code_verifier: string) =>
    postForm(server.endpoints.token, { grant_type: "authorization_code", code: params.get("code") ?? "", redirect_uri: callback.redirectUri, code_verifier, client_id: "demo-public" });
  const tokens = await exchange(verifier);
  assert.equal(tokens.status, 200);
  assert.ok(tokens.body.refresh_token, "a refresh token even though offline_access came without prompt=consent");
  assert.ok(tokens.body.id_token);
  assert.equal(tokens.body.scope, "openid api:read");
  assert.equal((await callApi(server, "/whoami", tokens.body.access_token)).body.sub, "demo");

  const refreshed = await postForm(server.endpoints.token, { grant_type: "refresh_token", refresh_token: tokens.body.refresh_token, client_id: "demo-public" });
  assert.equal(refreshed.status, 200);
  assert.notEqual(refreshed.body.refresh_token, tokens.body.refresh_token);

  // A replayed code is refused and takes down everything issued from it (RFC 6749 §4.1.2).
  assert.equal((await exchange(verifier)).body.error, "invalid_grant");
  assert.equal((await callApi(server, "/whoami", refreshed.body.access_token)).status, 401);
});

test("a code exchanged with the wrong PKCE verifier is invalid_grant", async (t) => {
  const server = await withDemoServer(t, { autoLogin: true });
  const redirectUri = "http://127.0.0.1:9/callback";
  const { challenge } = pkcePair();
  const back = await followUntil(authorizationUrl(server, redirectUri, { code_challenge: challenge, code_challenge_method: "S256" }), redirectUri);
  const tokens = await postForm(server.endpoints.token, {
    grant_type: "authorization_code",
    code: back.searchParams.get("code") ?? "",
    redirect_uri: redirectUri,
    code_verifier: pkcePair().verifier,
    client_id: "demo-public",
  });
  assert.equal(tokens.body.error, "invalid_grant");
});

test("an authorization request without PKCE is refused back at the redirect URI", async (t) => {
  const server = await withDemoServer(t, { autoLogin: true });
  const redirectUri = "http://localhost:9/callback";
  const back = await followUntil(authorizationUrl(server, redirectUri, {}), redirectUri);
  assert.equal(back.searchParams.get("error"), "invalid_request");
  assert.equal(back.searchParams.get("iss"), server.issuer);
  const plain = await followUntil(authorizationUrl(server, redirectUri, { code_challenge: "x".repeat(43), code_challenge_method: "plain" }), redirectUri);
  assert.equal(plain.searchParams.get("error"), "invalid_request");
});

test("the sign-in form checks the password, and cancelling is access_denied", async (t) => {
  const server = await withDemoServer(t);
  const redirectUri = "http://127.0.0.1:9/callback";
  const start = authorizationUrl(server, redirectUri, { code_challenge: pkcePair().challenge, code_challenge_method: "S256" });

  const toLogin = await fetch(start, { redirect: "manual" });
  const interaction = new URL(toLogin.headers.get("location") ?? "", server.issuer);
  const form = await fetch(interaction);
  assert.equal(form.status, 200);
  assert.match(await form.text(), /<form method="post" action="\/interaction\/[^"]+\/login"/);

  const submit = (password: string) =>
    fetch(`${interaction.href}/login`, { method: "POST", body: new URLSearchParams({ username: "demo", password }), redirect: "manual" });
  const wrong = await submit("wrong");
  assert.equal(wrong.status, 401);
  assert.doesNotMatch(await wrong.text(), /wrong<|value="wrong"/);
  const right = await submit(server.users.password);
  assert.equal(right.status, 303);
  const back = await followUntil(new URL(right.headers.get("location") ?? "", server.issuer).href, redirectUri);
  assert.ok(back.searchParams.get("code"));

  const again = await fetch(start, { redirect: "manual" });
  const abort = await fetch(new URL(`${again.headers.get("location")}/abort`, server.issuer), { method: "POST", redirect: "manual" });
  const denied = await followUntil(new URL(abort.headers.get("location") ?? "", server.issuer).href, redirectUri);
  assert.equal(denied.searchParams.get("error"), "access_denied");
});

test("device flow: pending, slow_down when polled too fast, then tokens once approved", async (t) => {
  const server = await withDemoServer(t, { devicePolling: { interval: 1, slowDownStep: 1 } });
  const device = await postForm(server.endpoints.deviceAuthorization, { client_id: "demo-public", scope: "openid offline_access api:read" });
  assert.equal(device.status, 200);
  assert.equal(device.body.interval, 1);
  assert.match(device.body.user_code, /^[A-Z]{4}-[A-Z]{4}$/);
  const poll = () => postForm(server.endpoints.token, { grant_type: DEVICE_CODE, device_code: device.body.device_code, client_id: "demo-public" });

  assert.equal((await poll()).body.error, "authorization_pending");
  assert.equal((await poll()).body.error, "slow_down");
  await server.approveDeviceCode(device.body.user_code.toLowerCase());
  await sleep(2 * MS_PER_S + POLL_SLACK_MS); // the interval grew from 1 s to 2 s
  const tokens = await poll();
  assert.equal(tokens.status, 200);
  assert.ok(tokens.body.refresh_token);
  assert.equal((await callApi(server, "/whoami", tokens.body.access_token)).body.sub, "demo");
  assert.deepEqual(server.stats.byOutcome, { authorization_pending: 1, slow_down: 1, ok: 1 });
  await assert.rejects(server.approveDeviceCode(device.body.user_code), /already used/);
});

test("device flow: the verification URL approves with autoLogin, and a denial is access_denied", async (t) => {
  const server = await withDemoServer(t, { autoLogin: true });
  const start = () => postForm(server.endpoints.deviceAuthorization, { client_id: "demo-public", scope: "api:read" });
  const poll = (deviceCode: string) => postForm(server.endpoints.token, { grant_type: DEVICE_CODE, device_code: deviceCode, client_id: "demo-public" });

  const approved = await start();
  const page = await fetch(approved.body.verification_uri_complete);
  assert.equal(page.status, 200);
  const tokens = await poll(approved.body.device_code);
  assert.equal(tokens.status, 200);
  assert.equal(tokens.body.scope, "api:read");

  const denied = await start();
  await server.denyDeviceCode(denied.body.user_code);
  assert.equal((await poll(denied.body.device_code)).body.error, "access_denied");
  await assert.rejects(server.approveDeviceCode("BCDF-GHJK"), /unknown user code/);
});

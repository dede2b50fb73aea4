import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import {
  CONFIDENTIAL_CLIENTS,
  basicAuth,
  callApi,
  clientAuth,
  postForm,
  serviceToken,
  signJwt,
  withDemoServer,
} from "../support/demo.js";

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** Margin past a token's `exp` second before asking again: the server compares whole seconds. */
const EXPIRY_MARGIN_MS = 50;

test("every confidential client gets a client_credentials token the protected API accepts", async (t) => {
  const server = await withDemoServer(t);
  for (const which of CONFIDENTIAL_CLIENTS) {
    const auth = await clientAuth(server, which);
    const { status, body } = await postForm(server.endpoints.token, { grant_type: "client_credentials", scope: "api:read", ...auth.form }, auth.headers);
    assert.equal(status, 200, `${which}: ${body.error}`);
    assert.equal(body.token_type, "Bearer");
    assert.equal(body.expires_in, 3600);
    assert.equal(body.refresh_token, undefined);
    const api = await callApi(server, "/whoami", body.access_token);
    assert.equal(api.status, 200);
    assert.deepEqual(api.body, { sub: null, client_id: server.clients[which].clientId, scope: "api:read", grant: "client_credentials", expires_at: api.body.expires_at });
  }
});

test("a wrong client secret is invalid_client and gets no token", async (t) => {
  const server = await withDemoServer(t);
  const { status, body } = await postForm(server.endpoints.token, { grant_type: "client_credentials" }, { authorization: basicAuth("demo-basic", "wrong") });
  assert.equal(status, 401);
  assert.equal(body.error, "invalid_client");
});

test("a token for the API's resource indicator carries only the API's scopes", async (t) => {
  const server = await withDemoServer(t);
  const auth = await clientAuth(server, "basic");
  const ok = await postForm(server.endpoints.token, { grant_type: "client_credentials", resource: server.apiUrl, scope: "api:read openid" }, auth.headers);
  assert.equal(ok.status, 200);
  assert.equal(ok.body.scope, "api:read");
  assert.equal((await callApi(server, "/whoami", ok.body.access_token)).status, 200);
  const unknown = await postForm(server.endpoints.token, { grant_type: "client_credentials", resource: "https://elsewhere.example" }, auth.headers);
  assert.equal(unknown.body.error, "invalid_target");
});

test("an expired access token gets 401 invalid_token", async (t) => {
  const server = await withDemoServer(t, { accessTokenTtl: 1 });
  const token = await serviceToken(server);
  const issued = Date.now();
  const fresh = await callApi(server, "/whoami", token);
  assert.equal(fresh.status, 200);
  // The API expires tokens exactly expires_in after issue (millisecond precision).
  await sleep(issued + 1000 - Date.now() + EXPIRY_MARGIN_MS);
  const expired = await callApi(server, "/whoami", token);
  assert.equal(expired.status, 401);
  assert.match(expired.headers.get("www-authenticate") ?? "", /^Bearer .*error="invalid_token"/);
});

test("a revoked access token gets 401, whether revoked over RFC 7009 or by the server", async (t) => {
  const server = await withDemoServer(t);
  const auth = await clientAuth(server, "basic");
  const first = await serviceToken(server);
  const revoked = await postForm(server.endpoints.revocation, { token: first, token_type_hint: "access_token" }, auth.headers);
  assert.equal(revoked.status, 200);
  assert.equal((await callApi(server, "/whoami", first)).status, 401);

  const second = await serviceToken(server);
  assert.equal(await server.revokeAccessToken(second), true);
  assert.equal(await server.revokeAccessToken(second), false);
  const api = await callApi(server, "/whoami", second);
  assert.equal(api.status, 401);
  assert.equal(api.body.error, "invalid_token");
});

test("introspection reports a live token active and a revoked one inactive", async (t) => {
  const server = await withDemoServer(t);
  const auth = await clientAuth(server, "basic");
  const token = await serviceToken(server, "api:read");
  const live = await postForm(server.endpoints.introspection, { token }, auth.headers);
  assert.equal(live.body.active, true);
  assert.equal(live.body.client_id, "demo-basic");
  await server.revokeAccessToken(token);
  assert.deepEqual((await postForm(server.endpoints.introspection, { token }, auth.headers)).body, { active: false });
});

test("the API refuses requests without a token, checks scopes and paginates", async (t) => {
  const server = await withDemoServer(t);
  const none = await callApi(server, "/whoami");
  assert.equal(none.status, 401);
  assert.equal(none.headers.get("www-authenticate"), 'Bearer realm="tokensmith-demo"');
  assert.equal((await callApi(server, "/whoami", "not-a-token")).status, 401);

  const reader = await serviceToken(server, "api:read");
  const admin = await callApi(server, "/admin", reader);
  assert.equal(admin.status, 403);
  assert.match(admin.headers.get("www-authenticate") ?? "", /error="insufficient_scope"/);
  assert.equal((await callApi(server, "/admin", await serviceToken(server, "api:read api:write"))).status, 200);

  const seen: number[] = [];
  let next: string | null = `${server.apiUrl}/items?page=1`;
  while (next) {
    const res: Response = await fetch(next, { headers: { authorization: `Bearer ${reader}` } });
    const body = (await res.json()) as { items: { id: number }[]; next: string | null };
    seen.push(...body.items.map((item) => item.id));
    if (body.next) assert.equal(res.headers.get("link"), `<${body.next}>; rel="next"`);
    next = body.next;
  }
  assert.deepEqual(seen, Array.from({ length: 12 }, (_, i) => i + 1));

  const echo = await callApi(server, "/echo", reader, { method: "POST", body: '{"a":1}', headers: { "content-type": "application/json" } });
  assert.deepEqual(echo.body, { method: "POST", content_type: "application/json", body: '{"a":1}' });
  assert.deepEqual(server.stats.api.byOutcome, { missing_token: 1, invalid_token: 1, insufficient_scope: 1, ok: 5 });
});

test("the password grant issues a refresh token that refreshes", async (t) => {
  const server = await withDemoServer(t);
  const auth = await clientAuth(server, "post");
  const wrong = await postForm(server.endpoints.token, { grant_type: "password", username: "demo", password: "nope", ...auth.form });
  assert.equal(wrong.body.error, "invalid_grant");
  const login = await postForm(server.endpoints.token, { grant_type: "password", username: "demo", password: server.users.password, scope: "api:read", ...auth.form });
  assert.equal(login.status, 200);
  assert.equal(login.body.scope, "api:read");
  assert.ok(login.body.refresh_token);
  assert.equal((await callApi(server, "/whoami", login.body.access_token)).body.sub, "demo");

  const refreshed = await postForm(server.endpoints.token, { grant_type: "refresh_token", refresh_token: login.body.refresh_token, ...auth.form });
  assert.equal(refreshed.status, 200);
  assert.notEqual(refreshed.body.access_token, login.body.access_token);
  assert.equal((await callApi(server, "/whoami", refreshed.body.access_token)).body.sub, "demo");
});

test("reusing a rotated refresh token is invalid_grant and revokes the whole grant", async (t) => {
  const server = await withDemoServer(t);
  const auth = await clientAuth(server, "basic");
  const refresh = (token: string) => postForm(server.endpoints.token, { grant_type: "refresh_token", refresh_token: token }, auth.headers);
  const login = await postForm(server.endpoints.token, { grant_type: "password", username: "demo", password: server.users.password }, auth.headers);
  const rotated = await refresh(login.body.refresh_token);
  assert.equal(rotated.status, 200);
  assert.notEqual(rotated.body.refresh_token, login.body.refresh_token);

  const reuse = await refresh(login.body.refresh_token);
  assert.equal(reuse.status, 400);
  assert.equal(reuse.body.error, "invalid_grant");
  assert.equal(server.stats.refreshReuseDetected, 1);
  assert.equal((await refresh(rotated.body.refresh_token)).body.error, "invalid_grant");
  assert.equal((await callApi(server, "/whoami", rotated.body.access_token)).status, 401);
});

test("without rotation a refresh token stays the same and can be used again", async (t) => {
  const server = await withDemoServer(t, { rotateRefreshTokens: false });
  const auth = await clientAuth(server, "basic");
  const login = await postForm(server.endpoints.token, { grant_type: "password", username: "demo", password: server.users.password }, auth.headers);
  for (let i = 0; i < 2; i++) {
    const refreshed = await postForm(server.endpoints.token, { grant_type: "refresh_token", refresh_token: login.body.refresh_token }, auth.headers);
    assert.equal(refreshed.status, 200);
    assert.equal(refreshed.body.refresh_token, login.body.refresh_token);
  }
  assert.equal(server.stats.refreshReuseDetected, 0);
});

test("the jwt-bearer grant accepts a signed assertion once and rejects a wrong audience", async (t) => {
  const server = await withDemoServer(t);
  const auth = await clientAuth(server, "basic");
  const grant = (assertion: string) => postForm(server.endpoints.token, { grant_type: JWT_BEARER, assertion, scope: "api:read" }, auth.headers);

  const assertion = await signJwt(server, "privateKeyJwt", { iss: "demo-basic", sub: "robot@example.com", aud: server.endpoints.token });
  const ok = await grant(assertion);
  assert.equal(ok.status, 200);
  assert.equal(ok.body.refresh_token, undefined);
  const api = await callApi(server, "/whoami", ok.body.access_token);
  assert.equal(api.body.sub, "robot@example.com");
  assert.equal(api.body.grant, "jwt-bearer");
  assert.equal((await grant(assertion)).body.error, "invalid_grant");

  const hmac = await grant(await signJwt(server, "basic", { sub: "robot@example.com" }));
  assert.equal(hmac.status, 200);
  const elsewhere = await grant(await signJwt(server, "privateKeyJwt", { sub: "robot@example.com", aud: "https://elsewhere.example" }));
  assert.equal(elsewhere.body.error, "invalid_grant");
});

test("stats count token requests by grant and outcome, and reset", async (t) => {
  const server = await withDemoServer(t);
  const auth = await clientAuth(server, "basic");
  await serviceToken(server);
  await serviceToken(server);
  await postForm(server.endpoints.token, { grant_type: "refresh_token", refresh_token: "unknown" }, auth.headers);
  await postForm(server.endpoints.token, { grant_type: "password", username: "demo", password: "nope" }, auth.headers);
  assert.equal(server.stats.tokenRequests, 4);
  assert.deepEqual(server.stats.byGrant, { client_credentials: 2, refresh_token: 1, password: 1 });
  assert.deepEqual(server.stats.byOutcome, { ok: 2, invalid_grant: 2 });
  assert.deepEqual(
    server.stats.timeline.map(({ grant, outcome, clientId }) => [grant, outcome, clientId]),
    [
      ["client_credentials", "ok", "demo-basic"],
      ["client_credentials", "ok", "demo-basic"],
      ["refresh_token", "invalid_grant", "demo-basic"],
      ["password", "invalid_grant", "demo-basic"],
    ],
  );
  assert.equal(server.stats.byEndpoint.token, 4);
  const stats = server.stats;
  server.resetStats();
  assert.equal(stats.tokenRequests, 0);
  assert.deepEqual(stats.timeline, []);
});

test("discovery advertises S256 PKCE, iss in authorization responses and the added grants", async (t) => {
  const server = await withDemoServer(t);
  const metadata = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  assert.equal(metadata.issuer, server.issuer);
  assert.deepEqual(metadata.code_challenge_methods_supported, ["S256"]);
  assert.equal(metadata.authorization_response_iss_parameter_supported, true);
  assert.equal(metadata.token_endpoint, server.endpoints.token);
  for (const grant of ["password", JWT_BEARER, "client_credentials", "urn:ietf:params:oauth:grant-type:device_code"]) {
    assert.ok((metadata.grant_types_supported as string[]).includes(grant), grant);
  }
});

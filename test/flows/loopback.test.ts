import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { describe, it, type TestContext } from "node:test";
import { TokenSmithError } from "../../src/errors.js";
import { listenLoopback, planLoopback, type LoopbackListener } from "../../src/flows/loopback.js";

async function listen(t: TestContext, redirectUri?: string): Promise<LoopbackListener> {
  const listener = await listenLoopback(planLoopback(redirectUri, "crm"), { connection: "crm" });
  t.after(() => listener.close());
  return listener;
}

/** A plain TCP server holding a port, to make it busy. */
async function occupy(t: TestContext, host = "127.0.0.1"): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

async function canBindIpv6(): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(0, "::1", () => server.close(() => resolve(true)));
  });
}

describe("planning the listener from redirect_uri", () => {
  it("defaults to 127.0.0.1 on a free port at /callback", () => {
    const plan = planLoopback(undefined, "crm");
    assert.deepEqual([plan.hosts, plan.port, plan.path], [["127.0.0.1"], 0, "/callback"]);
    assert.equal(plan.redirectUri(51234), "http://127.0.0.1:51234/callback");
  });

  it("keeps a configured redirect URI with a port exactly as written", () => {
    const plan = planLoopback("http://127.0.0.1:8765/oauth/cb", "crm");
    assert.deepEqual([plan.hosts, plan.port, plan.path], [["127.0.0.1"], 8765, "/oauth/cb"]);
    assert.equal(plan.redirectUri(8765), "http://127.0.0.1:8765/oauth/cb");
  });

  it("fills in a free port when the configured URI names none (RFC 8252 §7.3)", () => {
    const plan = planLoopback("http://localhost/cb", "crm");
    assert.deepEqual([plan.hosts, plan.port], [["127.0.0.1", "::1"], 0]);
    assert.equal(plan.redirectUri(40000), "http://localhost:40000/cb");
  });

  it("binds ::1 alone for [::1]", () => {
    assert.deepEqual(planLoopback("http://[::1]:9000/cb", "crm").hosts, ["::1"]);
  });

  for (const uri of ["https://example.com/oauth/callback", "http://192.168.1.10:8080/cb", "https://127.0.0.1:8443/cb", "com.example.app:/oauth"]) {
    it(`sends ${uri} to the manual flow with a usage error`, () => {
      assert.throws(
        () => planLoopback(uri, "crm"),
        (err: unknown) => err instanceof TokenSmithError && err.code === "usage_error" && err.field === "connections.crm.redirect_uri" && /--manual/.test(err.hint ?? ""),
      );
    });
  }
});

describe("the loopback listener", () => {
  it("delivers the one callback on the redirect path and answers with a self-contained page", async (t) => {
    const listener = await listen(t);
    const response = fetch(`${listener.redirectUri}?code=c0de&state=s1`);
    const callback = await listener.callback();
    assert.equal(callback.params.get("code"), "c0de");
    assert.equal(callback.params.get("state"), "s1");
    await callback.respond({ ok: true, title: "Logged in", message: "You can close this tab <now>." });
    const res = await response;
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("referrer-policy"), "no-referrer");
    assert.equal(res.headers.get("cache-control"), "no-store");
    assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'none'/);
    const html = await res.text();
    assert.match(html, /You can close this tab &lt;now&gt;\./);
    assert.doesNotMatch(html, /<script|<link|<img|src=|https?:\/\//i, "nothing is loaded from anywhere");
  });

  it("keeps a callback that arrived before anyone asked for it", async (t) => {
    const listener = await listen(t);
    const response = fetch(`${listener.redirectUri}?code=early&state=s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const callback = await listener.callback();
    assert.equal(callback.params.get("code"), "early");
    await callback.respond({ ok: false, title: "Login failed", message: "no" });
    assert.equal((await response).status, 400);
  });

  it("answers other paths with 404 and keeps waiting for the callback", async (t) => {
    const listener = await listen(t);
    const favicon = await fetch(new URL("/favicon.ico", listener.redirectUri));
    assert.equal(favicon.status, 404);
    assert.equal(favicon.headers.get("referrer-policy"), "no-referrer");
    const response = fetch(`${listener.redirectUri}?code=c&state=s`);
    const callback = await listener.callback();
    await callback.respond({ ok: true, title: "ok", message: "ok" });
    assert.equal((await response).status, 200);
  });

  it("refuses a second callback while the first is being handled, and closes after answering", async (t) => {
    const listener = await listen(t);
    const first = fetch(`${listener.redirectUri}?code=one&state=s`);
    const callback = await listener.callback();
    const second = await fetch(`${listener.redirectUri}?code=two&state=s`);
    assert.equal(second.status, 410);
    await callback.respond({ ok: true, title: "ok", message: "ok" });
    await first;
    await assert.rejects(fetch(`${listener.redirectUri}?code=three&state=s`), "the listener is closed");
  });

  it("says port_in_use, naming the port and redirect_uri, when the configured port is busy", async (t) => {
    const port = await occupy(t);
    await assert.rejects(listenLoopback(planLoopback(`http://127.0.0.1:${port}/callback`, "crm"), { connection: "crm" }), (err: unknown) => {
      assert.ok(err instanceof TokenSmithError);
      assert.equal(err.code, "port_in_use");
      assert.equal(err.field, "connections.crm.redirect_uri");
      assert.match(err.message, new RegExp(`port ${port} of redirect_uri .* is in use`));
      return true;
    });
  });

  it("listens on both 127.0.0.1 and ::1 for localhost", async (t) => {
    if (!(await canBindIpv6())) return t.skip("no IPv6 loopback on this machine");
    const listener = await listen(t, "http://localhost/callback");
    const port = new URL(listener.redirectUri).port;
    assert.match(listener.redirectUri, /^http:\/\/localhost:\d+\/callback$/);
    const viaV6 = await fetch(`http://[::1]:${port}/other`);
    assert.equal(viaV6.status, 404);
    const response = fetch(`http://127.0.0.1:${port}/callback?code=c&state=s`);
    const callback = await listener.callback();
    await callback.respond({ ok: true, title: "ok", message: "ok" });
    assert.equal((await response).status, 200);
  });
});

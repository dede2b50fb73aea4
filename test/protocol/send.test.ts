import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { requestToken, sendTokenRequest } from "../../src/protocol/send.js";
import type { FetchLike, PreparedRequest } from "../../src/protocol/types.js";
import { caught, client, closedPort, deps, json, startServer, type TestServer } from "./helpers.js";

const post = (url: string): PreparedRequest => ({ url, method: "POST", headers: { Accept: "application/json" }, body: "grant_type=client_credentials" });
const realFetch: FetchLike = (url, init) => fetch(url, init);

describe("sendTokenRequest", () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const serve = async (handler: Parameters<typeof startServer>[0]) => {
    const server = await startServer(handler);
    servers.push(server);
    return server;
  };

  it("returns status, headers, body and the time it sent at", async () => {
    const server = await serve((_req, res) => json(res, 200, { access_token: "x" }, { "X-Test": "1" }));
    const res = await sendTokenRequest(post(`${server.url}/token`), { fetch: realFetch, timeoutMs: 2_000, now: () => 42 });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-test"), "1");
    assert.equal(res.body, `{"access_token":"x"}`);
    assert.equal(res.sentAt, 42);
    assert.equal(server.requests[0]!.method, "POST");
  });

  it("does not follow a redirect and reports it as invalid_response", async () => {
    const server = await serve((req, res) => {
      if (req.path === "/token") {
        res.writeHead(307, { Location: "/elsewhere?code=abc" });
        return res.end();
      }
      json(res, 200, { access_token: "should-not-be-reached" });
    });
    const err = await caught(() => sendTokenRequest(post(`${server.url}/token`), { fetch: realFetch, timeoutMs: 2_000 }));
    assert.equal(err.code, "invalid_response");
    assert.equal(err.status, 307);
    assert.match(err.message, /redirected to http:\/\/127\.0\.0\.1:\d+\/elsewhere /);
    assert.doesNotMatch(err.message, /code=abc/);
    assert.deepEqual(server.requests.map((r) => r.path), ["/token"]);
  });

  it("gives up after the timeout with a timeout error naming the URL", async () => {
    const server = await serve(() => undefined /* never answers */);
    const started = Date.now();
    const err = await caught(() => sendTokenRequest(post(`${server.url}/slow`), { fetch: realFetch, timeoutMs: 150 }));
    assert.equal(err.code, "timeout");
    assert.equal(err.url, `${server.url}/slow`);
    assert.match(err.message, /did not answer within 150 ms/);
    assert.ok(Date.now() - started < 2_000);
  });

  it("reports a refused connection as network_error naming the URL", async () => {
    const url = `http://127.0.0.1:${await closedPort()}/token`;
    const err = await caught(() => sendTokenRequest(post(url), { fetch: realFetch, timeoutMs: 2_000 }));
    assert.equal(err.code, "network_error");
    assert.equal(err.url, url);
    assert.match(err.message, /connection refused/);
  });

  it("reports a connection reset as network_error", async () => {
    const server = await serve((req, res) => {
      res.socket?.destroy();
    });
    const err = await caught(() => sendTokenRequest(post(`${server.url}/token`), { fetch: realFetch, timeoutMs: 2_000 }));
    assert.equal(err.code, "network_error");
  });

  it("passes a caller's abort through untouched", async () => {
    const server = await serve(() => undefined);
    const controller = new AbortController();
    const reason = new Error("caller gave up");
    setTimeout(() => controller.abort(reason), 50);
    await assert.rejects(sendTokenRequest(post(`${server.url}/token`), { fetch: realFetch, timeoutMs: 5_000, signal: controller.signal }), (err) => err === reason);
  });

  it("refuses a response body larger than a token response can be", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end("x".repeat(2 * 1024 * 1024));
    });
    const err = await caught(() => sendTokenRequest(post(`${server.url}/token`), { fetch: realFetch, timeoutMs: 5_000 }));
    assert.equal(err.code, "invalid_response");
  });
});

describe("requestToken", () => {
  it("refuses an http:// token URL that is not loopback without sending anything", async () => {
    let called = false;
    const fetchSpy: FetchLike = async () => {
      called = true;
      throw new Error("must not be called");
    };
    const err = await caught(() =>
      requestToken(client(), { tokenUrl: "http://auth.example.com/token" }, { kind: "client_credentials" }, { ...deps, fetch: fetchSpy }),
    );
    assert.equal(err.code, "config_invalid");
    assert.equal(err.field, "connections.test.token_url");
    assert.equal(err.connection, "test");
    assert.equal(called, false);
  });

  it("names the connection on network errors", async () => {
    const url = `http://127.0.0.1:${await closedPort()}/token`;
    const err = await caught(() => requestToken(client(), { tokenUrl: url }, { kind: "client_credentials" }, deps));
    assert.equal(err.code, "network_error");
    assert.equal(err.connection, "test");
  });

  it("uses the injected clock for sentAt", async () => {
    const server = await startServer((_req, res) => json(res, 200, { access_token: "x", expires_in: 10 }));
    try {
      const result = await requestToken(client(), { tokenUrl: `${server.url}/token` }, { kind: "client_credentials" }, { ...deps, now: () => 1_000 });
      assert.equal(result.sentAt, 1_000);
      assert.equal(result.tokens.expiresInMs, 10_000);
    } finally {
      await server.close();
    }
  });
});

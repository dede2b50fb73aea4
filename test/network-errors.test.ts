import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TokenSmithError, lockTimeout, networkError, timeoutError } from "../src/errors.js";
import { unreachable } from "../src/http/fetch.js";
import { NETWORK_CAUSES, TRANSIENT_ERRNO, classifyNetworkError, errorCode } from "../src/network-errors.js";
import { sendTokenRequest } from "../src/protocol/send.js";
import { closedPort } from "./protocol/helpers.js";

/** What fetch throws: "fetch failed", with the socket error one or two causes down. */
function fetchFailure(code: string, message = `connect ${code} 10.0.0.1:443`): TypeError {
  const socket = Object.assign(new Error(message), { code });
  return new TypeError("fetch failed", { cause: socket });
}

describe("the one network-error classifier", () => {
  it("finds the code along the cause chain, and names it in words", () => {
    assert.equal(errorCode(fetchFailure("ECONNREFUSED")), "ECONNREFUSED");
    assert.equal(errorCode(new Error("plain")), undefined);
    assert.deepEqual(classifyNetworkError(fetchFailure("ECONNREFUSED")), { kind: "network", code: "ECONNREFUSED", reason: "connection refused" });
    assert.equal(classifyNetworkError(fetchFailure("EWHATEVER")).reason, "EWHATEVER");
    assert.equal(classifyNetworkError(new TypeError("fetch failed", { cause: new Error("other side hung up") })).reason, "other side hung up");
  });

  it("tells a timeout (undici's or the caller's deadline) from a network failure", () => {
    assert.equal(classifyNetworkError(fetchFailure("UND_ERR_CONNECT_TIMEOUT")).kind, "timeout");
    assert.equal(classifyNetworkError(fetchFailure("ETIMEDOUT")).kind, "timeout");
    assert.equal(classifyNetworkError(new Error("aborted"), true).kind, "timeout");
    assert.equal(classifyNetworkError(fetchFailure("ECONNRESET")).kind, "network");
  });

  it("exports the transient errnos the network stores retry, each named in words except the timeout", () => {
    for (const code of TRANSIENT_ERRNO) if (code !== "ETIMEDOUT") assert.ok(NETWORK_CAUSES[code], code);
  });

  it("gives the protocol sender and the authorized fetch the same words for the same failure", async () => {
    const url = `http://127.0.0.1:${await closedPort()}/x`;
    const fromProtocol = await sendTokenRequest({ url, method: "POST", headers: {}, body: "" }, { fetch: (u, i) => fetch(u, i), timeoutMs: 2_000 }).then(
      () => assert.fail("sent"),
      (err: TokenSmithError) => err,
    );
    const fromHttp = unreachable(fetchFailure("ECONNREFUSED"), new URL(url), { name: "api" }) as TokenSmithError;
    assert.equal(fromProtocol.code, "network_error");
    assert.equal(fromHttp.code, "network_error");
    assert.match(fromProtocol.message, /: connection refused$/);
    assert.match(fromHttp.message, /: connection refused$/);
    assert.equal(fromHttp.connection, "api");
  });
});

describe("one factory per error", () => {
  it("lock_timeout names the holder when known, with the same hint everywhere", () => {
    const err = lockTimeout("123@host");
    assert.equal(err.code, "lock_timeout");
    assert.match(err.message, /held by 123@host/);
    assert.equal(lockTimeout().message, "timed out waiting for another update of the same token state");
    assert.equal(err.hint, lockTimeout().hint);
  });

  it("network_error and timeout say what and where", () => {
    const net = networkError({ url: "https://a.example/token", what: "token endpoint" }, "connection refused");
    assert.equal(net.message, "cannot reach token endpoint https://a.example/token: connection refused");
    assert.equal(net.url, "https://a.example/token");
    assert.equal(timeoutError({ url: "https://a.example/t", what: "token endpoint" }, { ms: 150 }).message, "token endpoint https://a.example/t did not answer within 150 ms");
    assert.equal(timeoutError({ url: "https://a.example/x" }, { code: "ETIMEDOUT" }).message, "https://a.example/x did not answer in time (ETIMEDOUT)");
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isLoopbackHost as configLoopback } from "../src/config/urls.js";
import { isLoopbackHost as protocolLoopback } from "../src/protocol/urls.js";
import { isInsecureHttp, isLoopbackHost, refusesPlainHttp } from "../src/urls.js";

describe("the shared URL rules (src/urls.ts)", () => {
  it("is the one loopback rule the config and the protocol layers use", () => {
    assert.equal(configLoopback, isLoopbackHost);
    assert.equal(protocolLoopback, isLoopbackHost);
    for (const host of ["localhost", "127.0.0.1", "127.9.8.7", "[::1]", "::1"]) assert.equal(isLoopbackHost(host), true, host);
    for (const host of ["127.0.0.256", "example.com", "10.0.0.1", "localhost.evil.com"]) assert.equal(isLoopbackHost(host), false, host);
  });

  it("refuses plain http off loopback unless accepted", () => {
    assert.equal(refusesPlainHttp(new URL("http://auth.example.com/t"), false), true);
    assert.equal(refusesPlainHttp(new URL("http://auth.example.com/t"), true), false);
    assert.equal(refusesPlainHttp(new URL("http://127.0.0.1:9/t"), false), false);
    assert.equal(refusesPlainHttp(new URL("https://auth.example.com/t"), false), false);
    assert.equal(isInsecureHttp(new URL("http://auth.example.com/t")), true);
  });
});

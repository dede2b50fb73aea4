import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkEndpointUrl, isLoopbackHost } from "../../src/protocol/urls.js";
import { caught } from "./helpers.js";

const field = "connections.billing.token_url";

describe("checkEndpointUrl", () => {
  it("accepts https anywhere and returns the URL unchanged", () => {
    assert.equal(checkEndpointUrl("https://auth.example.com/oauth/token", { field, allowInsecureHttp: false }), "https://auth.example.com/oauth/token");
  });

  it("accepts plain http on loopback addresses", () => {
    for (const url of ["http://127.0.0.1:8080/token", "http://127.9.8.7/token", "http://localhost:3000/t", "http://[::1]:9000/token"]) {
      assert.equal(checkEndpointUrl(url, { field, allowInsecureHttp: false }), url);
    }
  });

  it("refuses plain http to a non-loopback host and names the field", async () => {
    const err = await caught(() => checkEndpointUrl("http://auth.example.com/token", { field, allowInsecureHttp: false }));
    assert.equal(err.code, "config_invalid");
    assert.equal(err.field, field);
    assert.match(err.message, /connections\.billing\.token_url/);
    assert.match(err.hint ?? "", /allow_insecure_http/);
  });

  it("accepts plain http to a non-loopback host when allow_insecure_http is set", () => {
    assert.equal(checkEndpointUrl("http://10.0.0.5/token", { field, allowInsecureHttp: true }), "http://10.0.0.5/token");
  });

  it("refuses hosts that only look like loopback", async () => {
    for (const url of ["http://127.0.0.1.example.com/token", "http://localhost.evil.com/token", "http://128.0.0.1/token"]) {
      const err = await caught(() => checkEndpointUrl(url, { field, allowInsecureHttp: false }));
      assert.equal(err.code, "config_invalid");
    }
  });

  it("refuses other schemes, fragments and unparseable URLs", async () => {
    for (const url of ["ftp://example.com/token", "https://example.com/token#x", "not a url"]) {
      const err = await caught(() => checkEndpointUrl(url, { field, allowInsecureHttp: true }));
      assert.equal(err.code, "config_invalid");
      assert.equal(err.field, field);
    }
  });

  it("recognises loopback hosts", () => {
    assert.equal(isLoopbackHost("LOCALHOST"), true);
    assert.equal(isLoopbackHost("[::1]"), true);
    assert.equal(isLoopbackHost("127.0.0.53"), true);
    assert.equal(isLoopbackHost("10.0.0.1"), false);
  });
});

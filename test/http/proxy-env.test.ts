import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bypassesProxy, describeProxy, proxyFor, proxyRules } from "../../src/http/proxy-env.js";
import { networkFailure } from "../../src/http/transport-errors.js";

/** The proxy rules of SPEC §1 `proxy` as a table, and the TLS failures a user can act on. */

describe("which proxy a request goes through", () => {
  const env = { HTTPS_PROXY: "http://secure-proxy:3128", HTTP_PROXY: "http://plain-proxy:3128", NO_PROXY: "internal.example, .corp.example, 10.0.0.7, localhost:8080" };
  const cases: [string, string, string | undefined][] = [
    ["https targets use HTTPS_PROXY", "https://api.example.com/x", "http://secure-proxy:3128"],
    ["http targets use HTTP_PROXY", "http://api.example.com/x", "http://plain-proxy:3128"],
    ["a NO_PROXY host goes direct", "https://internal.example/token", undefined],
    ["and its subdomains", "https://auth.internal.example/token", undefined],
    ["a leading dot means the domain and its subdomains", "https://sso.corp.example/token", undefined],
    ["a name that only ends the same way is not exempt", "https://notinternal.example/token", "http://secure-proxy:3128"],
    ["an IP address matches exactly", "https://10.0.0.7/token", undefined],
    ["an entry with a port exempts that port only", "http://localhost:8080/", undefined],
    ["another port of it goes through the proxy", "http://localhost:9090/", "http://plain-proxy:3128"],
  ];
  for (const [name, url, expected] of cases) {
    it(name, () => assert.equal(proxyFor(new URL(url), proxyRules(undefined, env)), expected));
  }

  it("lowercase variables win over uppercase ones", () => {
    assert.equal(proxyFor(new URL("https://a.example"), proxyRules(undefined, { https_proxy: "http://lower:1", HTTPS_PROXY: "http://upper:1" })), "http://lower:1");
  });

  it("HTTPS_PROXY falls back to HTTP_PROXY for https targets", () => {
    assert.equal(proxyFor(new URL("https://a.example"), proxyRules(undefined, { HTTP_PROXY: "http://plain:1" })), "http://plain:1");
  });

  it("proxy: URL overrides the variables, proxy: none bypasses them, NO_PROXY still exempts", () => {
    assert.equal(proxyFor(new URL("https://a.example"), proxyRules("http://configured:8080", env)), "http://configured:8080");
    assert.equal(proxyFor(new URL("https://a.example"), proxyRules("none", env)), undefined);
    assert.equal(proxyFor(new URL("https://internal.example"), proxyRules("http://configured:8080", env)), undefined);
  });

  it("NO_PROXY=* exempts everything", () => assert.equal(bypassesProxy(new URL("https://anything.example"), "*"), true));

  it("a proxy is shown without its credentials", () => assert.equal(describeProxy("http://user:pa55@proxy.corp:3128"), "http://proxy.corp:3128"));
});

describe("TLS failures name the host and the fix", () => {
  const target = new URL("https://auth.corp.example/oauth/token");
  const failure = (code: string) => Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error("x"), { code }) });
  const cases: [string, RegExp][] = [
    ["SELF_SIGNED_CERT_IN_CHAIN", /TLS with auth\.corp\.example failed: self-signed certificate in the chain: set tls\.ca_file/],
    ["UNABLE_TO_GET_ISSUER_CERT_LOCALLY", /certificate signed by an unknown CA: set tls\.ca_file/],
    ["CERT_HAS_EXPIRED", /TLS with auth\.corp\.example failed: certificate expired/],
    ["ERR_TLS_CERT_ALTNAME_INVALID", /hostname mismatch/],
    ["ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", /requires a client certificate: set tls\.client_cert and tls\.client_key/],
  ];
  for (const [code, message] of cases) {
    it(code, () => {
      const err = networkFailure(failure(code), { target, connection: "api" });
      assert.equal(err?.code, "network_error");
      assert.match(err!.message, message);
    });
  }

  it("other failures without a proxy are left to the caller's own words", () => {
    assert.equal(networkFailure(failure("ECONNREFUSED"), { target, connection: "api" }), undefined);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { baseUrl, hostChecker } from "../../src/gateway/hosts.js";

describe("the gateway's Host check", () => {
  it("accepts every loopback name with the bound port on a loopback bind", () => {
    const allowed = hostChecker("127.0.0.1", 7373);
    for (const host of ["127.0.0.1:7373", "localhost:7373", "LOCALHOST:7373", "[::1]:7373", "127.0.0.2:7373"]) assert.ok(allowed(host), host);
  });

  it("refuses other names, another port, a missing port and a missing header (DNS rebinding)", () => {
    const allowed = hostChecker("127.0.0.1", 7373);
    for (const host of ["attacker.example:7373", "127.0.0.1:7374", "127.0.0.1", "localhost.attacker.example:7373", "127.0.0.1:7373:1", "", undefined]) {
      assert.equal(allowed(host), false, String(host));
    }
  });

  it("accepts IPv6 binds in brackets, and the bare name on the scheme's default port", () => {
    assert.ok(hostChecker("::1", 7373)("[::1]:7373"));
    assert.ok(hostChecker("127.0.0.1", 80)("localhost"));
    assert.equal(hostChecker("127.0.0.1", 80)("localhost:8080"), false);
  });

  it("accepts only the bound address itself on a non-loopback bind", () => {
    const allowed = hostChecker("192.0.2.10", 8443);
    assert.ok(allowed("192.0.2.10:8443"));
    assert.equal(allowed("localhost:8443"), false);
    assert.equal(allowed("127.0.0.1:8443"), false);
  });
});

describe("gateway.hosts", () => {
  it("adds names (a TLS certificate's DNS name) to an IP bind, with the same port rule", () => {
    const allowed = hostChecker("192.0.2.10", 8443, ["gateway.example.com", "Other.Example"]);
    for (const host of ["192.0.2.10:8443", "gateway.example.com:8443", "GATEWAY.example.com:8443", "other.example:8443"]) assert.ok(allowed(host), host);
    for (const host of ["gateway.example.com:8444", "gateway.example.com", "evil.example:8443", "example.com:8443", "gateway.example.com.evil:8443"]) {
      assert.equal(allowed(host), false, host);
    }
  });

  it("names the gateway's URL under TLS, so the printed URLs pass the certificate check", () => {
    assert.equal(baseUrl("192.0.2.10", 8443, true, ["gateway.example.com"]), "https://gateway.example.com:8443");
    assert.equal(baseUrl("0.0.0.0", 8443, true, ["gateway.example.com"]), "https://gateway.example.com:8443");
    assert.equal(baseUrl("127.0.0.1", 7373, false, ["gateway.example.com"]), "http://127.0.0.1:7373", "plain http keeps the bound address");
  });
});

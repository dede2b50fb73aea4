import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { describe, it } from "node:test";
import { FULL_KEY, withDemoGateway } from "./support.js";

/** A test certificate is generated with openssl; without it the test says so and is skipped. */
const OPENSSL = "/usr/bin/openssl";
const skip = existsSync(OPENSSL) ? false : `${OPENSSL} is not installed: no test certificate can be made`;

function httpsGet(url: string, ca: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the gateway with gateway.tls", { skip }, () => {
  it("serves HTTPS with the configured certificate and marks the session cookie Secure", async (t) => {
    let certPath = "";
    let keyPath = "";
    const { gateway } = await withDemoGateway(t, {
      patch: (config) => {
        const dir = config.store.dir as string;
        certPath = join(dir, "..", "cert.pem");
        keyPath = join(dir, "..", "key.pem");
        execFileSync(OPENSSL, [
          "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
          "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", keyPath, "-out", certPath,
        ], { stdio: "ignore" });
        config.gateway.tls = { cert: certPath, key: keyPath };
      },
    });
    assert.match(gateway.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = readFileSync(certPath, "utf8");
    assert.equal((await httpsGet(`${gateway.url}/v1/connections`, ca, { authorization: `Bearer ${FULL_KEY}` })).status, 200);
    const signIn = await httpsGet(gateway.signInUrl, ca);
    assert.equal(signIn.status, 303);
    assert.match(String(signIn.headers["set-cookie"]), /; Secure/);
  });
});

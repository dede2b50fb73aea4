import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { request, type RequestOptions } from "node:https";
import type { LookupAddress } from "node:dns";
import type { LookupFunction } from "node:net";
import { join } from "node:path";
import { describe, it } from "node:test";
import { FULL_KEY, withDemoGateway } from "./support.js";

/** A test certificate is generated with openssl; without it the test says so and is skipped. */
const OPENSSL = "/usr/bin/openssl";
const skip = existsSync(OPENSSL) ? false : `${OPENSSL} is not installed: no test certificate can be made`;

/** Resolves every name to 127.0.0.1, as a DNS record for the certificate's name would. */
const toLoopback: LookupFunction = (_host, options, callback) => {
  if (options.all) (callback as (err: null, addresses: LookupAddress[]) => void)(null, [{ address: "127.0.0.1", family: 4 }]);
  else callback(null, "127.0.0.1", 4);
};

function httpsGet(url: string, ca: string, headers: Record<string, string> = {}, options: RequestOptions = {}): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers, ...options }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** A self-signed certificate for `subjectAltName` in the config's folder, set as gateway.tls; returns the certificate's path. */
function useCertificate(config: any, subjectAltName: string): string {
  const dir = config.store.dir as string;
  const certPath = join(dir, "..", "cert.pem");
  const keyPath = join(dir, "..", "key.pem");
  execFileSync(OPENSSL, [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
    "-subj", "/CN=tokensmith test", "-addext", `subjectAltName=${subjectAltName}`, "-keyout", keyPath, "-out", certPath,
  ], { stdio: "ignore" });
  config.gateway.tls = { cert: certPath, key: keyPath };
  return certPath;
}

describe("the gateway with gateway.tls", { skip }, () => {
  it("serves HTTPS with the configured certificate and marks the session cookie Secure", async (t) => {
    let certPath = "";
    const { gateway } = await withDemoGateway(t, {
      patch: (config) => {
        certPath = useCertificate(config, "IP:127.0.0.1");
      },
    });
    assert.match(gateway.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = readFileSync(certPath, "utf8");
    assert.equal((await httpsGet(`${gateway.url}/v1/connections`, ca, { authorization: `Bearer ${FULL_KEY}` })).status, 200);
    const signIn = await httpsGet(gateway.signInUrl, ca);
    assert.equal(signIn.status, 303);
    assert.match(String(signIn.headers["set-cookie"]), /; Secure/);
  });

  it("answers its certificate's DNS name, listed in gateway.hosts, while bound to an IP address", async (t) => {
    let certPath = "";
    const { gateway } = await withDemoGateway(t, {
      patch: (config) => {
        certPath = useCertificate(config, "DNS:gateway.test");
        config.gateway.hosts = ["gateway.test"];
      },
    });
    assert.match(gateway.url, /^https:\/\/gateway\.test:\d+$/, "the printed URL names the certificate's name");
    const ca = readFileSync(certPath, "utf8");
    const list = await httpsGet(`${gateway.url}/v1/connections`, ca, { authorization: `Bearer ${FULL_KEY}` }, { lookup: toLoopback });
    assert.equal(list.status, 200, "Host: gateway.test is the gateway's own name");
    const signIn = await httpsGet(gateway.signInUrl, ca, {}, { lookup: toLoopback });
    assert.equal(signIn.status, 303);
    const port = new URL(gateway.url).port;
    const rebound = await httpsGet(`${gateway.url}/v1/connections`, ca, { authorization: `Bearer ${FULL_KEY}`, host: `evil.test:${port}` }, { lookup: toLoopback, servername: "gateway.test" });
    assert.equal(rebound.status, 403, "names not listed are still refused");
  });
});

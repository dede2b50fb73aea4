import assert from "node:assert/strict";
import { test } from "node:test";
import { Agent } from "undici";
import { TokenSmith } from "../../src/tokensmith.js";
import { createTestCa, type TestCa } from "../support/tls-ca.js";
import { rejection } from "./support.js";
import { startMtlsServer } from "./mtls-server.js";

/**
 * Company TLS (SPEC §1 `tls`, issue 12 item 2): extra CAs on top of the system's, and mutual
 * TLS client authentication (RFC 8705) with certificate-bound tokens, against a local HTTPS
 * authorization server with its own CA that authenticates clients by their certificate.
 */

async function load(t: import("node:test").TestContext, connection: Record<string, unknown>, extra: { env?: NodeJS.ProcessEnv; top?: Record<string, unknown> } = {}) {
  const ts = await TokenSmith.load({
    config: { store: { type: "memory" }, ...extra.top, connections: { api: connection } },
    env: extra.env ?? {},
    // No real waiting between retries of a failed request.
    clock: { now: () => Date.now(), sleep: async () => {} },
  });
  t.after(() => ts.close());
  return ts.connection("api");
}

/** A fetch with another client certificate (or none): what a stolen bound token would get. */
async function fetchWith(ca: TestCa, url: string, token: string, cert?: { cert: string; key: string }): Promise<number> {
  const dispatcher = new Agent({ connect: { ca: [ca.ca.cert], ...cert } });
  try {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, dispatcher } as RequestInit);
    await res.body?.cancel();
    return res.status;
  } finally {
    await dispatcher.close();
  }
}

test("tls_client_auth: the client authenticates with its CA-signed certificate, sends client_id and no secret, and calls the API over the same certificate the token is bound to", async (t) => {
  const ca = await createTestCa(t);
  const client = await ca.client("billing-client");
  const server = await startMtlsServer(t, ca, { clients: { billing: { method: "tls_client_auth", subjectCn: "billing-client" } } });
  const conn = await load(t, {
    token_url: server.tokenUrl,
    client_id: "billing",
    client_auth: "tls_client_auth",
    tls: { ca_file: ca.ca.certFile, client_cert: client.certFile, client_key: client.keyFile },
  });

  const token = await conn.accessToken();
  assert.deepEqual(server.tokenRequests, [{ clientId: "billing", secretSent: false, thumbprint: client.thumbprint }]);

  const res = await conn.fetch(`${server.apiUrl}/invoices`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { client_id: "billing", path: "/api/invoices" });

  // The binding is enforced: the same token over another certificate, or none, is refused.
  const other = await ca.client("someone-else");
  assert.equal(await fetchWith(ca, `${server.apiUrl}/invoices`, token, other), 401);
  assert.equal(await fetchWith(ca, `${server.apiUrl}/invoices`, token), 401);
});

test("self_signed_tls_client_auth: a self-signed client certificate registered with the server authenticates the client", async (t) => {
  const ca = await createTestCa(t);
  const own = await ca.selfSigned("reports-self-signed");
  const server = await startMtlsServer(t, ca, { clients: { reports: { method: "self_signed_tls_client_auth", cert: own } } });
  const conn = await load(t, {
    token_url: server.tokenUrl,
    client_id: "reports",
    client_auth: "self_signed_tls_client_auth",
    tls: { ca_file: ca.ca.certFile, client_cert: own.certFile, client_key: own.keyFile },
  });
  const res = await conn.fetch(`${server.apiUrl}/reports`);
  assert.equal(res.status, 200);
  assert.deepEqual(server.tokenRequests, [{ clientId: "reports", secretSent: false, thumbprint: own.thumbprint }]);
});

test("with a client certificate, discovery uses the metadata's mtls_endpoint_aliases (RFC 8705 §5)", async (t) => {
  const ca = await createTestCa(t);
  const client = await ca.client("billing-client");
  const server = await startMtlsServer(t, ca, { clients: { billing: { method: "tls_client_auth", subjectCn: "billing-client" } } });
  const conn = await load(t, {
    issuer: server.url,
    grant: "client_credentials",
    client_id: "billing",
    client_auth: "tls_client_auth",
    tls: { ca_file: ca.ca.certFile, client_cert: client.certFile, client_key: client.keyFile },
  });
  assert.equal((await conn.fetch(`${server.apiUrl}/x`)).status, 200);
  assert.equal(server.tokenRequests.length, 1);
});

test("a server whose certificate comes from a company CA fails without tls.ca_file, naming the host and the fix, and works with it", async (t) => {
  const ca = await createTestCa(t);
  const client = await ca.client("billing-client");
  const server = await startMtlsServer(t, ca, { clients: { billing: { method: "tls_client_auth", subjectCn: "billing-client" } } });
  const settings = { token_url: server.tokenUrl, client_id: "billing", client_auth: "tls_client_auth" };
  const without = await load(t, { ...settings, tls: { client_cert: client.certFile, client_key: client.keyFile } });
  const err = await rejection(without.accessToken());
  assert.equal(err.code, "network_error");
  assert.match(err.message, /TLS with 127\.0\.0\.1:\d+ failed: self-signed certificate in the chain: set tls\.ca_file/);
  assert.equal(server.tokenRequests.length, 0);
  // With no tls setting at all (Node's own fetch, no dispatcher), the same words.
  const plain = await load(t, { token_url: server.tokenUrl, client_id: "billing", client_secret: "s3cret-value" });
  assert.match((await rejection(plain.accessToken())).message, /TLS with 127\.0\.0\.1:\d+ failed: self-signed certificate in the chain: set tls\.ca_file/);

  const withCa = await load(t, { ...settings, tls: { ca_file: ca.ca.certFile, client_cert: client.certFile, client_key: client.keyFile } });
  assert.ok(await withCa.accessToken());
});

test("tls.ca_file adds to NODE_EXTRA_CA_CERTS instead of replacing it: a CA given there still counts", async (t) => {
  const ca = await createTestCa(t);
  const unrelated = await createTestCa(t, "Another Company CA");
  const client = await ca.client("billing-client");
  const server = await startMtlsServer(t, ca, { clients: { billing: { method: "tls_client_auth", subjectCn: "billing-client" } } });
  const conn = await load(
    t,
    { token_url: server.tokenUrl, client_id: "billing", client_auth: "tls_client_auth", tls: { ca_file: unrelated.ca.certFile, client_cert: client.certFile, client_key: client.keyFile } },
    { env: { NODE_EXTRA_CA_CERTS: ca.ca.certFile } },
  );
  assert.ok(await conn.accessToken());
});

test("a top-level tls gives every connection the company CA, and a connection adds its own client certificate", async (t) => {
  const ca = await createTestCa(t);
  const client = await ca.client("billing-client");
  const server = await startMtlsServer(t, ca, { clients: { billing: { method: "tls_client_auth", subjectCn: "billing-client" } } });
  const conn = await load(
    t,
    { token_url: server.tokenUrl, client_id: "billing", client_auth: "tls_client_auth", tls: { client_cert: client.certFile, client_key: client.keyFile } },
    { top: { tls: { ca_file: ca.ca.certFile } } },
  );
  assert.equal((await conn.fetch(`${server.apiUrl}/x`)).status, 200);
});

test("a server that requires a client certificate, called without one, fails naming the host and tls.client_cert", async (t) => {
  const ca = await createTestCa(t);
  const server = await startMtlsServer(t, ca, { clients: {}, requireCertificate: true });
  const conn = await load(t, { token_url: server.tokenUrl, client_id: "billing", client_secret: "s3cret-value", tls: { ca_file: ca.ca.certFile } });
  const err = await rejection(conn.accessToken());
  assert.equal(err.code, "network_error");
  assert.match(err.message, /TLS with 127\.0\.0\.1:\d+ failed: the server requires a client certificate: set tls\.client_cert and tls\.client_key/);
});

test("a certificate for another host name fails as a hostname mismatch, naming the host", async (t) => {
  const ca = await createTestCa(t);
  const server = await startMtlsServer(t, ca, { clients: {}, server: await ca.server("elsewhere", ["DNS:auth.elsewhere.example"]) });
  const conn = await load(t, { token_url: server.tokenUrl, client_id: "billing", client_secret: "s3cret-value", tls: { ca_file: ca.ca.certFile } });
  const err = await rejection(conn.accessToken());
  assert.equal(err.code, "network_error");
  assert.match(err.message, /TLS with 127\.0\.0\.1:\d+ failed: hostname mismatch/);
});

test("client_auth tls_client_auth without a client certificate is a config error naming tls.client_cert", async (t) => {
  const err = await rejection(
    TokenSmith.load({ config: { store: { type: "memory" }, connections: { api: { token_url: "https://auth.example.com/token", client_id: "billing", client_auth: "tls_client_auth" } } }, env: {} }).then((ts) => {
      t.after(() => ts.close());
      return ts.connection("api").accessToken();
    }),
  );
  assert.equal(err.code, "config_invalid");
  assert.match(err.message, /connections\.api\.tls\.client_cert: required for client_auth tls_client_auth/);
});

test("a client certificate without its key is refused at load", async () => {
  const err = await rejection(TokenSmith.load({ config: { connections: { api: { token_url: "https://auth.example.com/token", client_id: "x", client_secret: "y", tls: { client_cert: "client.pem" } } } }, env: {} }));
  assert.equal(err.code, "config_invalid");
  assert.match(err.message, /tls\.client_key/);
});

test("an unreadable tls file is a config error naming the field, not a TLS failure", async (t) => {
  const conn = await load(t, { token_url: "https://127.0.0.1:9/token", client_id: "x", client_secret: "secret-value", tls: { ca_file: "/nonexistent/ca.pem" } });
  const err = await rejection(conn.accessToken());
  assert.equal(err.code, "config_invalid");
  assert.match(err.message, /connections\.api\.tls\.ca_file: file \/nonexistent\/ca\.pem not found/);
});

import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { SignJWT, importJWK } from "jose";
import { type DemoServer, type DemoServerOptions, startDemoServer } from "../../src/demo/server.js";

/**
 * Test helpers around the bundled demo authorization server: each test gets its own server
 * (its own port, secrets, keys and token store) and its own temporary folder, both gone when
 * the test ends.
 */

/** Starts a demo server for this test (quiet unless told otherwise) and closes it afterwards. */
export async function withDemoServer(t: TestContext, options: DemoServerOptions = {}): Promise<DemoServer> {
  const server = await startDemoServer({ quiet: true, ...options });
  t.after(() => server.close());
  return server;
}

/** A fresh temporary folder for this test, removed afterwards. */
export async function tmpDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tokensmith-test-"));
  // Retries: a store write still finishing (a background invalidation, say) can refill a folder mid-removal.
  t.after(() => rm(dir, { recursive: true, force: true, maxRetries: 5 }));
  return dir;
}

/** Basic client authentication header (RFC 6749 §2.3.1: id and secret form-encoded first). */
export function basicAuth(clientId: string, clientSecret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, "+");
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString("base64")}`;
}

/** The demo's confidential clients, by the key `server.clients` uses. */
export type ConfidentialClient = "basic" | "post" | "secretJwt" | "privateKeyJwt";
export const CONFIDENTIAL_CLIENTS: readonly ConfidentialClient[] = ["basic", "post", "secretJwt", "privateKeyJwt"];
const CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** A JWT signed by one of the demo's clients: its key pair, or HS256 with a client secret. */
export async function signJwt(
  server: DemoServer,
  signer: ConfidentialClient,
  claims: { iss?: string; sub?: string; aud?: string | string[]; expiresIn?: string; jti?: string | null },
): Promise<string> {
  const client = server.clients[signer];
  const jwt = new SignJWT({})
    .setIssuer(claims.iss ?? client.clientId)
    .setSubject(claims.sub ?? client.clientId)
    .setAudience(claims.aud ?? server.issuer)
    .setIssuedAt()
    .setExpirationTime(claims.expiresIn ?? "60s");
  if (claims.jti !== null) jwt.setJti(claims.jti ?? randomUUID());
  if ("privateJwk" in client) {
    return jwt.setProtectedHeader({ alg: client.alg, kid: client.kid }).sign(await importJWK(client.privateJwk, client.alg));
  }
  return jwt.setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(client.clientSecret));
}

/** Client authentication for a token request: headers and form fields, per the client's method. */
export async function clientAuth(server: DemoServer, which: ConfidentialClient): Promise<{ headers: Record<string, string>; form: Record<string, string> }> {
  const client = server.clients[which];
  switch (which) {
    case "basic":
      return { headers: { authorization: basicAuth(client.clientId, server.clients.basic.clientSecret) }, form: {} };
    case "post":
      return { headers: {}, form: { client_id: client.clientId, client_secret: server.clients.post.clientSecret } };
    default:
      return {
        headers: {},
        form: { client_id: client.clientId, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: await signJwt(server, which, {}) },
      };
  }
}

/** POSTs a form to the demo's token (or other) endpoint and returns status and JSON body. */
export async function postForm(
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, any>; headers: Headers }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json", ...headers },
    body: new URLSearchParams(form),
    redirect: "manual",
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {}, headers: res.headers };
}

/** A client_credentials token for the demo's client_secret_basic client. */
export async function serviceToken(server: DemoServer, scope?: string): Promise<string> {
  const { basic } = server.clients;
  const { status, body } = await postForm(
    server.endpoints.token,
    { grant_type: "client_credentials", ...(scope ? { scope } : {}) },
    { authorization: basicAuth(basic.clientId, basic.clientSecret) },
  );
  if (status !== 200) throw new Error(`client_credentials failed: ${status} ${body.error}`);
  return body.access_token;
}

/** Calls the demo's protected API with a bearer token. */
export async function callApi(server: DemoServer, path: string, token?: string, init: RequestInit = {}) {
  const res = await fetch(`${server.apiUrl}${path}`, {
    ...init,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string> | undefined) },
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {}, headers: res.headers };
}

/**
 * Asks the server itself whether it still takes `token` (RFC 7662 introspection as the demo's
 * basic client). oidc-provider judges expiry by its own `exp` in whole seconds with `iat`
 * floored, stricter than the demo API, which expires tokens to the millisecond.
 */
export async function isActiveAtServer(server: DemoServer, token: string): Promise<boolean> {
  const { basic } = server.clients;
  const { status, body } = await postForm(server.endpoints.introspection, { token }, { authorization: basicAuth(basic.clientId, basic.clientSecret) });
  if (status !== 200) throw new Error(`introspection failed: ${status} ${body.error}`);
  return body.active === true;
}

import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { protocolClient } from "../../src/config/protocol-client.js";
import type { ResolvedConnection } from "../../src/config/types.js";
import { TokenSmithError } from "../../src/errors.js";
import type { OAuthClient, ProtocolDeps } from "../../src/protocol/types.js";

/** A resolved connection with the config layer's defaults, for protocol tests. */
export function connection(overrides: Partial<ResolvedConnection> = {}): ResolvedConnection {
  return {
    name: "test",
    grant: "client_credentials",
    account: "test",
    clientId: "my-client",
    clientSecret: "s3cret-value",
    clientAuth: "basic",
    basicEncoding: "form",
    assertion: { ttlMs: 300_000, claims: {} },
    scopes: [],
    scopeSeparator: " ",
    pkce: "S256",
    authorizationParams: {},
    tokenParams: {},
    refreshParams: {},
    tokenHeaders: {},
    tokenBody: "form",
    header: { name: "Authorization", value: "Bearer {token}" },
    defaultTtl: 3_600_000,
    cache: "shared",
    timeoutMs: 5_000,
    allowInsecureHttp: false,
    vars: {},
    ...overrides,
  };
}

/** The protocol layer's client for such a connection, built as the lifecycle builds it. */
export function client(overrides: Partial<ResolvedConnection> = {}): OAuthClient {
  return protocolClient(connection(overrides));
}

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export type Handler = (req: Recorded, res: ServerResponse) => unknown;

export interface TestServer {
  /** Base URL, e.g. http://127.0.0.1:43121 */
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1, port 0; records every request. */
export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const recorded = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      requests.push(recorded);
      Promise.resolve(handler(recorded, res)).catch((err) => {
        res.statusCode = 599;
        res.end(String(err));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sends a JSON body. */
export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(typeof body === "string" ? body : JSON.stringify(body));
}

export const deps: ProtocolDeps = { fetch: (url, init) => fetch(url, init), now: () => Date.now() };

/** Fails if any of `secrets` shows anywhere a user could see it: message, hint, JSON, stack. */
export function assertNoSecrets(err: unknown, secrets: readonly string[]): void {
  assert.ok(err instanceof TokenSmithError, `expected a TokenSmithError, got ${String(err)}`);
  const visible = [err.message, err.hint ?? "", err.errorDescription ?? "", JSON.stringify(err.toJSON()), err.stack ?? ""].join("\n");
  for (const secret of secrets) assert.ok(!visible.includes(secret), `secret ${JSON.stringify(secret)} is visible in: ${visible}`);
}

/** Catches the rejection of `promise` (or throw of `fn`) as a TokenSmithError. */
export async function caught(fn: () => unknown): Promise<TokenSmithError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof TokenSmithError, `expected a TokenSmithError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected an error");
}

export function form(body: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body));
}

/** A port nothing listens on: bind one, note it, close it. */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { demoConfig } from "../../src/demo/config.js";
import type { DemoServer, DemoServerOptions } from "../../src/demo/server.js";
import type { TokenSmithError } from "../../src/errors.js";
import type { Connection } from "../../src/lifecycle/connection.js";
import { TokenSmith } from "../../src/tokensmith.js";
import { withDemoServer } from "../support/demo.js";

/**
 * Helpers for the HTTP tests: the demo authorization server with a connection to it (its
 * protected API accepts only valid tokens it issued), a clock that records sleeps instead of
 * sleeping, and small recording API servers for redirects, retries and origins.
 */

export interface Setup {
  server: DemoServer;
  ts: TokenSmith;
  connection: Connection;
  /** Every sleep the connection asked for (Retry-After waits), in ms; none really happens. */
  sleeps: number[];
  /**
   * The same connection in another TokenSmith instance on the same config and file store, as
   * another process would see it; `clockOffsetMs` moves its clock (e.g. past the token's expiry).
   */
  another(options?: { clockOffsetMs?: number }): Promise<Connection>;
}

/** A demo server and its "demo-service" connection (client_credentials); `patch` edits that connection's config. */
export async function demoSetup(t: TestContext, options: { patch?: (conn: Record<string, unknown>, server: DemoServer) => void; server?: DemoServerOptions } = {}): Promise<Setup> {
  const server = await withDemoServer(t, options.server);
  // Removed only after every TokenSmith below has closed (waiting for its in-flight store writes).
  const dir = await mkdtemp(join(tmpdir(), "tokensmith-test-"));
  const config = demoConfig(server, { dir: join(dir, "store") }) as { connections: Record<string, Record<string, unknown>> };
  options.patch?.(config.connections["demo-service"], server);
  const sleeps: number[] = [];
  const ts = await TokenSmith.load({
    config,
    env: {},
    clock: { now: () => Date.now(), sleep: async (ms) => void sleeps.push(ms) },
  });
  const others: TokenSmith[] = [];
  const another = async ({ clockOffsetMs = 0 } = {}) => {
    const other = await TokenSmith.load({
      config,
      env: {},
      clock: { now: () => Date.now() + clockOffsetMs, sleep: async (ms) => void sleeps.push(ms) },
    });
    others.push(other);
    return other.connection("demo-service");
  };
  t.after(async () => {
    await Promise.all([ts.close(), ...others.map((other) => other.close())]);
    await rm(dir, { recursive: true, force: true });
  });
  return { server, ts, connection: ts.connection("demo-service"), sleeps, another };
}

/** One request a recording server received. */
export interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export interface RecordingServer {
  url: string;
  origin: string;
  seen: Seen[];
}

/** A local API server that records every request and answers with `handler`; on 127.0.0.1 unless `host` says otherwise. */
export async function recordingServer(
  t: TestContext,
  handler: (req: Seen, res: ServerResponse, server: RecordingServer) => void,
  { host = "127.0.0.1" }: { host?: string } = {},
): Promise<RecordingServer> {
  const record: RecordingServer = { url: "", origin: "", seen: [] };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const seen: Seen = { method: req.method ?? "GET", path: req.url ?? "/", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
    record.seen.push(seen);
    handler(seen, res, record);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  t.after(() => {
    server.close();
    server.closeAllConnections();
  });
  record.origin = `http://${host}:${(server.address() as { port: number }).port}`;
  record.url = record.origin;
  return record;
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

export function redirect(res: ServerResponse, location: string, status = 302): void {
  res.writeHead(status, { location });
  res.end();
}

/** The error a promise is rejected with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<TokenSmithError> {
  try {
    await promise;
  } catch (err) {
    return err as TokenSmithError;
  }
  assert.fail("expected a rejection");
}

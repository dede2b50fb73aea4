import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestContext } from "node:test";
import { withDemoGateway, type DemoGateway } from "./support.js";

/**
 * A loopback API for the data gateway's tests and benchmark: it generates large downloads on
 * the fly (never held in memory), hashes uploads as they stream in, shows the headers it got,
 * redirects where told, and records the `Authorization` of every request (so a test can see
 * where a token went). A token is required (`Authorization: Bearer` or `X-Api-Token: Token`);
 * tokens in `refused` get 401.
 */

/** The download's repeating block: 64 KiB of a fixed pseudo-random pattern. */
export const BLOCK = (() => {
  const block = Buffer.alloc(64 * 1024);
  let x = 0x2545f491;
  for (let i = 0; i < block.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    block[i] = x & 0xff;
  }
  return block;
})();

/** The MD5 of the first `bytes` bytes of the download pattern (computed by streaming the block). */
export function patternMd5(bytes: number): string {
  const known = md5s.get(bytes);
  if (known) return known;
  const hash = createHash("md5");
  let left = bytes;
  while (left > 0) {
    const n = Math.min(left, BLOCK.length);
    hash.update(n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n));
    left -= n;
  }
  const digest = hash.digest("hex");
  md5s.set(bytes, digest);
  return digest;
}
const md5s = new Map<number, string>();

/** What the test API's /gzip answers, gzip-compressed. */
export const GZIP_DOCUMENT = { compressed: true, items: Array.from({ length: 50 }, (_, i) => ({ id: i, name: `item ${i}` })) };

export interface TestApi {
  url: string;
  server: Server;
  /** `Authorization` headers seen, in order, with the path. */
  seen: { path: string; authorization?: string }[];
  refused: Set<string>;
  /** Downloads whose reader went away before the end. */
  cut: number;
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Writes `bytes` of the pattern with backpressure. */
function download(res: ServerResponse, bytes: number, onCut: () => void): void {
  res.once("close", () => void (res.writableFinished || onCut()));
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(bytes) });
  let left = bytes;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, BLOCK.length);
      left -= n;
      if (!res.write(n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n))) return void res.once("drain", pump);
    }
    res.end();
  };
  pump();
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Starts the API on 127.0.0.1; `basePath` (e.g. "/v1") is where its routes live. */
export async function startTestApi(basePath = "/v1"): Promise<TestApi> {
  const seen: TestApi["seen"] = [];
  const refused = new Set<string>();
  const hangingUp = new WeakSet<object>();
  const server = createServer(async (req, res) => {
    if (hangingUp.has(req.socket)) return void req.socket.destroy();
    const url = new URL(req.url ?? "/", "http://x");
    seen.push({ path: url.pathname, authorization: req.headers.authorization });
    if (url.pathname === "/landing") return json(res, 200, { landed: true, authorization: req.headers.authorization ?? null });
    const custom = req.headers["x-api-token"];
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? (typeof custom === "string" ? /^Token (.+)$/.exec(custom)?.[1] : undefined);
    if (!token || refused.has(token)) {
      req.resume();
      return json(res, 401, { error: "invalid_token" }, { "www-authenticate": 'Bearer error="invalid_token"' });
    }
    const route = url.pathname.startsWith(basePath) ? url.pathname.slice(basePath.length) : url.pathname;
    switch (route) {
      case "/small":
        return json(res, 200, { ok: true, items: [1, 2, 3] });
      case "/gzip": {
        // Compressed whatever the client asked for: a proxy must pass the bytes on as they are.
        const body = gzipSync(JSON.stringify(GZIP_DOCUMENT));
        res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip", "content-length": body.length });
        return void res.end(body);
      }
      case "/headers":
        return json(res, 200, { headers: req.headers, method: req.method }, { "set-cookie": ["api_session=abc; Path=/"], connection: "x-api-hop", "x-api-hop": "1", "x-api-kept": "yes" });
      case "/download":
        return download(res, Number(url.searchParams.get("bytes") ?? "0"), () => void api.cut++);
      case "/upload": {
        const hash = createHash("md5");
        let bytes = 0;
        req.on("data", (c: Buffer) => {
          bytes += c.length;
          hash.update(c);
        });
        req.on("end", () => json(res, 200, { bytes, md5: hash.digest("hex"), chunked: req.headers["transfer-encoding"] === "chunked" }));
        return;
      }
      case "/echo": {
        const body = await readAll(req);
        return json(res, 200, { method: req.method, content_type: req.headers["content-type"] ?? null, body: body.toString("utf8") });
      }
      case "/redirect":
        return json(res, Number(url.searchParams.get("status") ?? "302"), { redirect: true }, { location: url.searchParams.get("to") ?? "/" });
      case "/early":
        // An API that refuses a large body at once, without reading it, then drops the
        // kept-alive socket: as its close crosses the proxy's next request, that request is cut.
        hangingUp.add(req.socket);
        return json(res, 500, { error: "refused early" });
      case "/status":
        return json(res, Number(url.searchParams.get("code") ?? "200"), { status: true }, { "retry-after": "0" });
      default:
        return json(res, 404, { error: "not_found" });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const api: TestApi = {
    url,
    server,
    seen,
    refused,
    cut: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return api;
}

/** A test API closed when the test ends. */
export async function withTestApi(t: TestContext, basePath?: string): Promise<TestApi> {
  const api = await startTestApi(basePath);
  t.after(() => api.close());
  return api;
}

export interface ProxySetup extends DemoGateway {
  testApi: TestApi;
}

/** A gateway whose demo-service proxies to the demo API, and "bulk" (same client) to the test API's /v1. */
export async function proxyGateway(t: TestContext, patch?: (config: any, testApi: TestApi) => void): Promise<ProxySetup> {
  const testApi = await withTestApi(t);
  const gw = await withDemoGateway(t, {
    patch: (config) => {
      config.connections["demo-service"].base_url = `${config.connections["demo-service"].test_url.replace(/\/whoami$/, "")}`;
      config.connections.bulk = { ...config.connections["demo-service"], base_url: `${testApi.url}/v1` };
      patch?.(config, testApi);
    },
  });
  return { ...gw, testApi };
}


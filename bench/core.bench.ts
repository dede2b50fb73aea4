import { createServer } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { demoConfig } from "../src/demo/config.js";
import { startDemoServer } from "../src/demo/server.js";
import { minimumTokenRequests } from "../src/lifecycle/timing.js";
import { createMemoryStore } from "../src/store/memory.js";
import { TokenSmith } from "../src/tokensmith.js";
import type { Report } from "./report.js";

/** Run length and callers of the single-process request count (SPEC §2.10's example: 17 for 10 s). */
const RUN_MS = 10_000;
const CALLERS = 200;
const TOKEN_TTL_S = 2;
/** Cache-hit loop size: large enough for a stable rate, small enough to finish in ~2 s. */
const HIT_CALLS = 2_000_000;
/** Loopback HTTP requests per variant, with this many in flight. */
const HTTP_REQUESTS = 4_000;
const HTTP_CONCURRENCY = 8;

export async function run(report: Report): Promise<void> {
  await tokenRequests(report);
  await cacheHits(report);
  await fetchOverhead(report);
}

/** 200 callers for 10 s of 2-second tokens: token requests made vs the minimum. */
async function tokenRequests(report: Report) {
  const server = await startDemoServer({ accessTokenTtl: TOKEN_TTL_S, quiet: true });
  const dir = await mkdtemp(join(tmpdir(), "tokensmith-bench-"));
  const ts = await TokenSmith.load({ config: demoConfig(server, { dir }), env: {} });
  try {
    const connection = ts.connection("demo-service");
    const started = Date.now();
    let calls = 0;
    await Promise.all(
      Array.from({ length: CALLERS }, async () => {
        while (Date.now() - started < RUN_MS) {
          await connection.accessToken();
          calls++;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }),
    );
    const minimum = minimumTokenRequests(RUN_MS, TOKEN_TTL_S * 1000);
    report({
      name: `token requests, ${CALLERS} concurrent callers, ${RUN_MS / 1000} s of ${TOKEN_TTL_S}-second tokens (${calls.toLocaleString("en-US")} calls)`,
      value: server.stats.tokenRequests,
      unit: "requests",
      baseline: minimum,
      baselineName: "SPEC §2.10 minimum",
      goal: "1.000x (exactly the minimum)",
    });
  } finally {
    await ts.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** accessToken() on a cached token vs the cheapest possible async cache (a Map behind an async function). */
async function cacheHits(report: Report) {
  const server = await startDemoServer({ quiet: true });
  const ts = await TokenSmith.load({ config: demoConfig(server, { dir: "/nonexistent" }), env: {}, store: createMemoryStore() });
  try {
    const connection = ts.connection("demo-service");
    const token = await connection.accessToken();
    const map = new Map([["demo-service", token]]);
    const baseline = async (name: string) => map.get(name)!;
    const rate = async (fn: () => Promise<unknown>) => {
      for (let i = 0; i < 100_000; i++) await fn(); // warm-up
      const t0 = performance.now();
      for (let i = 0; i < HIT_CALLS; i++) await fn();
      return HIT_CALLS / ((performance.now() - t0) / 1000);
    };
    const base = await rate(() => baseline("demo-service"));
    const ours = await rate(() => connection.accessToken());
    report({
      name: "accessToken() cache hits",
      value: ours,
      unit: "calls/s",
      baseline: base,
      baselineName: "Map lookup in an async function",
      goal: ">= 1,000,000 calls/s",
      higherIsBetter: true,
    });
  } finally {
    await ts.close();
    await server.close();
  }
}

/** connection.fetch vs plain fetch with a static Authorization header, on loopback. */
async function fetchOverhead(report: Report) {
  const api = createServer((req, res) => {
    res.writeHead(req.headers.authorization ? 200 : 401, { "content-type": "application/json" });
    res.end('{"ok":true}');
  });
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(api.address() as { port: number }).port}/`;
  const server = await startDemoServer({ quiet: true });
  const ts = await TokenSmith.load({ config: demoConfig(server, { dir: "/nonexistent" }), env: {}, store: createMemoryStore() });
  try {
    const connection = ts.connection("demo-service");
    const token = await connection.accessToken();
    const plain = () => fetch(url, { headers: { authorization: `Bearer ${token}` } });
    const ours = () => connection.fetch(url);
    const throughput = async (send: () => Promise<Response>) => {
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: HTTP_CONCURRENCY }, async () => {
          while (next++ < HTTP_REQUESTS) await (await send()).arrayBuffer();
        }),
      );
      return HTTP_REQUESTS / ((performance.now() - t0) / 1000);
    };
    await throughput(plain); // warm-up both paths and the keep-alive pool
    await throughput(ours);
    const basePerS = await throughput(plain);
    const oursPerS = await throughput(ours);
    report({
      name: "connection.fetch on loopback",
      value: oursPerS,
      unit: "requests/s",
      baseline: basePerS,
      baselineName: "plain fetch with a static header",
      goal: ">= 0.95x",
      higherIsBetter: true,
    });
  } finally {
    await ts.close();
    await server.close();
    api.close();
  }
}

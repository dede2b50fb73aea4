import { createServer } from "node:http";
import { Agent, request } from "undici";
import { demoConfig } from "../src/demo/config.js";
import { startDemoServer } from "../src/demo/server.js";
import { authorize } from "../src/http/undici.js";
import { createMemoryStore } from "../src/store/memory.js";
import { TokenSmith } from "../src/tokensmith.js";
import { alternating, type Report } from "./report.js";

/** Loopback requests per measurement, with this many in flight: a fraction of a second each. */
const REQUESTS = 600;
const CONCURRENCY = 8;
/**
 * Plain and authorized runs alternate this many times and the median of each is reported:
 * tokensmith adds a few microseconds to a request that takes hundreds, so on a busy machine
 * the noise is larger than the difference, and short alternating rounds cancel it best.
 */
const ROUNDS = 15;

/**
 * The cost of tokensmith on the request path (SPEC §2.11 recovery and §2.13 origin checks are
 * in it): `connection.fetch` and the undici interceptor against the same client sending a
 * static `Authorization` header, to a loopback API that answers at once.
 */
export async function run(report: Report): Promise<void> {
  const api = createServer((req, res) => {
    res.writeHead(req.headers.authorization ? 200 : 401, { "content-type": "application/json" });
    res.end('{"ok":true}');
  });
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(api.address() as { port: number }).port}/items`;
  const server = await startDemoServer({ quiet: true });
  const ts = await TokenSmith.load({ config: demoConfig(server, { dir: "/nonexistent" }), env: {}, store: createMemoryStore() });
  const plainAgent = new Agent();
  const ourAgent = new Agent();
  try {
    const connection = ts.connection("demo-service");
    const token = await connection.accessToken();
    const headers = { authorization: `Bearer ${token}` };

    const fetchRates = await compare(
      () => fetch(url, { headers }).then((res) => res.arrayBuffer()),
      () => connection.fetch(url).then((res) => res.arrayBuffer()),
    );
    report({
      name: "connection.fetch throughput on loopback",
      value: fetchRates.ours,
      unit: "requests/CPU-s",
      baseline: fetchRates.plain,
      baselineName: "plain fetch with a static header",
      goal: ">= 0.95x",
      higherIsBetter: true,
    });

    const dispatcher = ourAgent.compose(authorize(connection));
    const undiciRates = await compare(
      () => request(url, { dispatcher: plainAgent, headers }).then((res) => res.body.arrayBuffer()),
      () => request(url, { dispatcher }).then((res) => res.body.arrayBuffer()),
    );
    report({
      name: "undici interceptor throughput on loopback",
      value: undiciRates.ours,
      unit: "requests/CPU-s",
      baseline: undiciRates.plain,
      baselineName: "undici.request with a static header",
      goal: ">= 0.95x",
      higherIsBetter: true,
    });
    if (server.stats.tokenRequests !== 1) throw new Error(`expected one token request, saw ${server.stats.tokenRequests}`);
  } finally {
    await plainAgent.close();
    await ourAgent.close();
    await ts.close();
    await server.close();
    api.close();
  }
}

/** Requests per CPU-second of each sender, median of alternating rounds after a warm-up of both. */
function compare(plain: () => Promise<unknown>, ours: () => Promise<unknown>): Promise<{ plain: number; ours: number }> {
  return alternating(plain, ours, throughput, ROUNDS);
}

/**
 * Requests per CPU-second of this process (the client and the loopback API both run here).
 * Wall-clock rates swing ±15% between identical runs on a shared machine; CPU time does not
 * count the time other processes hold the cores, and agrees with itself within a few percent.
 */
async function throughput(send: () => Promise<unknown>): Promise<number> {
  let next = 0;
  const before = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < REQUESTS) await send();
    }),
  );
  const used = process.cpuUsage(before);
  return REQUESTS / ((used.user + used.system) / MICROSECONDS_PER_S);
}

const MICROSECONDS_PER_S = 1_000_000;

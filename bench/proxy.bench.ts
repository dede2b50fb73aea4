import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "undici";
import { stringify } from "yaml";
import { demoConfig } from "../src/demo/config.js";
import { startDemoServer } from "../src/demo/server.js";
import { alternating, median, type Report } from "./report.js";

/**
 * The data gateway (issue 14 item 5), side by side in one run on loopback: a client calling a
 * loopback API through `tokensmith proxy` against the same client calling it directly with a
 * static `Authorization` header.
 *
 * Three processes, as in real use: the load generator (this one), `tokensmith proxy` (the
 * built CLI) and the API (a child: a real API costs CPU of its own, elsewhere). All share this
 * machine's cores, so the proxy's CPU is taken from the client and the API: rates are
 * wall-clock. Peak RSS is the proxy process's (Linux /proc: VmHWM against VmRSS at the start).
 */

const CONCURRENCY = 32;
const REQUESTS = 5000;
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const LATENCY_SAMPLES = 2000;
const DOWNLOAD = 1024 * 1024 * 1024;
const MB = 1024 * 1024;

/** The loopback API: /small answers a small JSON document at once, /slow after ?ms= (default 2; an API that does some work), /download?bytes=N streams N bytes with backpressure. */
const API_SOURCE = `
const http = require("node:http");
const block = Buffer.alloc(64 * 1024, 97);
const small = JSON.stringify({ items: [{ id: 1, name: "a" }, { id: 2, name: "b" }], next: null });
http.createServer((req, res) => {
  if (!req.headers.authorization) { res.writeHead(401); return res.end(); }
  if (req.url.startsWith("/v1/download")) {
    let left = Number(new URL(req.url, "http://x").searchParams.get("bytes"));
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": left });
    const pump = () => { while (left > 0) { const n = Math.min(left, block.length); left -= n; if (!res.write(n === block.length ? block : block.subarray(0, n))) return res.once("drain", pump); } res.end(); };
    return pump();
  }
  const answer = () => { res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(small) }); res.end(small); };
  if (req.url.startsWith("/v1/slow")) return void setTimeout(answer, Number(new URL(req.url, "http://x").searchParams.get("ms") ?? 2));
  answer();
}).listen(0, "127.0.0.1", function () { process.stdout.write(String(this.address().port) + "\\n"); });
`;

/**
 * The floor of any proxy written on Node: a bare pass-through (node:http server, undici Pool
 * to the API, a static token header, nothing checked, nothing counted), for what the proxy
 * itself costs above the two HTTP hops it cannot avoid.
 */
const BARE_PROXY_SOURCE = `
const http = require("node:http");
const { Pool } = require("undici");
const [base, authorization] = process.argv.slice(1);
const url = new URL(base);
const pool = new Pool(url.origin);
http.createServer((req, res) => {
  pool.dispatch({ origin: url.origin, path: url.pathname + req.url, method: req.method, headers: { authorization } }, {
    onConnect() {}, onError(err) { res.destroy(err); }, onUpgrade() {},
    onHeaders(status, raw) { const h = []; for (const b of raw) h.push(b.toString("latin1")); res.writeHead(status, h); return true; },
    onData(chunk) { return res.write(chunk); },
    onComplete() { res.end(); },
  });
}).listen(0, "127.0.0.1", function () { process.stdout.write(String(this.address().port) + "\\n"); });
`;

async function startApi(source = API_SOURCE, args: string[] = []): Promise<{ url: string; pid: number; stop(): void }> {
  const child = spawn(process.execPath, ["-e", source, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<string>((resolve) => child.stdout.once("data", (d) => resolve(String(d).trim())));
  return { url: `http://127.0.0.1:${port}/v1`, pid: child.pid!, stop: () => void child.kill() };
}

/** `tokensmith proxy NAME --config PATH` from the build, once it has printed its address and key. */
async function startProxyProcess(configPath: string): Promise<{ url: string; key: string; child: ChildProcess }> {
  const bin = join(import.meta.dirname, "..", "bin", "tokensmith.js");
  const child = spawn(process.execPath, [...(process.env.PROXY_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.PROXY_PROF}`] : []), bin, "proxy", "demo-service", "--config", configPath], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on("data", (d) => {
      stderr += d;
      if (/listening on .*\n[\s\S]*key: \S+\n/.test(stderr)) resolve();
    });
    child.on("exit", () => reject(new Error(`tokensmith proxy exited: ${stderr}`)));
  });
  return { url: /listening on (\S+)/.exec(stderr)![1], key: /key: (\S+)/.exec(stderr)![1], child };
}

/** A process's CPU time so far (user + system), seconds (Linux; clock ticks of 10 ms). */
async function cpuOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const TICKS_PER_S = 100;
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
}

/** A process's current and peak resident set, bytes (Linux). */
async function rssOf(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}

export async function run(report: Report): Promise<void> {
  const api = await startApi();
  const server = await startDemoServer({ quiet: true });
  const dir = await mkdtemp(join(tmpdir(), "tokensmith-bench-"));
  const config = demoConfig(server, { dir: join(dir, "store") }) as { connections: Record<string, Record<string, unknown>> };
  config.connections["demo-service"].base_url = api.url;
  const configPath = join(dir, "tokensmith.yaml");
  await writeFile(configPath, stringify(config), { mode: 0o600 });
  const proxy = await startProxyProcess(configPath);
  const agent = new Agent({ connections: CONCURRENCY });
  try {
    // The token the proxy holds (the file store is shared): the direct client sends the same one.
    const { TokenSmith } = await import("../src/tokensmith.js");
    const ts = await TokenSmith.load({ config: configPath, env: {} });
    const token = await ts.connection("demo-service").accessToken();
    await ts.close();
    const direct = { url: `${api.url}/small`, headers: { authorization: `Bearer ${token}` } };
    const proxied = { url: `${proxy.url}/small`, headers: { authorization: `Bearer ${proxy.key}` } };
    const send = (target: { url: string; headers: Record<string, string> }) => () =>
      request(target.url, { dispatcher: agent, headers: target.headers }).then(async (res) => {
        await res.body.arrayBuffer();
        if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
      });

    const rates = await compare(send(direct), send(proxied));
    await cpuSplit(report, { direct: send(direct), proxied: send(proxied), api: api.pid, proxy: proxy.child.pid!, token, apiUrl: api.url });
    // CPU per request: the proxy's against the API's own, over the same proxied requests.
    const [proxyCpu, apiCpu] = await Promise.all([cpuOf(proxy.child.pid!), cpuOf(api.pid)]);
    await throughput(send(proxied));
    const [proxyCpu2, apiCpu2] = await Promise.all([cpuOf(proxy.child.pid!), cpuOf(api.pid)]);
    report({
      name: "CPU per proxied request in the proxy process",
      value: ((proxyCpu2 - proxyCpu) / REQUESTS) * 1e6,
      unit: "µs",
      baseline: ((apiCpu2 - apiCpu) / REQUESTS) * 1e6,
      baselineName: "the API process for the same request",
      higherIsBetter: false,
    });
    report({
      name: `proxy throughput, ${CONCURRENCY} concurrent small JSON requests`,
      value: rates.ours,
      unit: "requests/s",
      baseline: rates.plain,
      baselineName: "the API called directly with a static header",
      goal: ">= 0.8x",
      higherIsBetter: true,
    });

    const slow = await compare(send({ ...direct, url: `${api.url}/slow` }), send({ ...proxied, url: `${proxy.url}/slow` }));
    report({
      name: `proxy throughput, ${CONCURRENCY} concurrent requests to an API taking 2 ms each`,
      value: slow.ours,
      unit: "requests/s",
      baseline: slow.plain,
      baselineName: "the API called directly with a static header",
      higherIsBetter: true,
    });

    // An API with the latency of a real one (20 ms): the cores are no longer the limit, so this
    // shows what the proxy costs a tool's throughput where the API, not the machine, sets the pace.
    const real = await compare(send({ ...direct, url: `${api.url}/slow?ms=20` }), send({ ...proxied, url: `${proxy.url}/slow?ms=20` }));
    report({
      name: `proxy throughput, ${CONCURRENCY} concurrent requests to an API taking 20 ms each`,
      value: real.ours,
      unit: "requests/s",
      baseline: real.plain,
      baselineName: "the API called directly with a static header",
      higherIsBetter: true,
    });

    const latency = await latencies(send(direct), send(proxied));
    report({
      name: "proxy added median latency (one request at a time)",
      value: (latency.ours - latency.plain) * 1e6,
      unit: "µs",
      goal: "< 1000 µs",
      higherIsBetter: false,
    });
    report({ name: "median latency through the proxy", value: latency.ours * 1e6, unit: "µs", baseline: latency.plain * 1e6, baselineName: "direct", higherIsBetter: false });

    // A quarter of the size first: constant memory means about the same growth for both.
    const quarter = await downloadGrowth(`${proxy.url}/download?bytes=${DOWNLOAD / 4}`, proxied.headers, agent, proxy.child.pid!, DOWNLOAD / 4);
    report({ name: "256 MiB download through the proxy: peak RSS growth", value: quarter.rss / MB, unit: "MiB", higherIsBetter: false });
    const growth = await downloadGrowth(`${proxy.url}/download?bytes=${DOWNLOAD}`, proxied.headers, agent, proxy.child.pid!, DOWNLOAD);
    report({
      name: "1 GiB download through the proxy: peak RSS growth",
      value: growth.rss / MB,
      unit: "MiB",
      goal: "< 50 MiB",
      higherIsBetter: false,
    });
    report({ name: "1 GiB download through the proxy: throughput", value: DOWNLOAD / MB / growth.seconds, unit: "MiB/s", higherIsBetter: true });
    if (server.stats.tokenRequests > 2) throw new Error(`expected one token request per process, saw ${server.stats.tokenRequests}`);
  } finally {
    await agent.close();
    proxy.child.kill();
    await server.close();
    api.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** CPU time of one throughput run per request, µs: this process (the load generator) and the given others. */
async function cpuPerRequest(send: () => Promise<unknown>, pids: number[]): Promise<{ rate: number; client: number; others: number[] }> {
  const before = await Promise.all(pids.map(cpuOf));
  const started = process.cpuUsage();
  const rate = await throughput(send);
  const used = process.cpuUsage(started);
  const after = await Promise.all(pids.map(cpuOf));
  return { rate, client: (used.user + used.system) / REQUESTS, others: pids.map((_, i) => ((after[i] - before[i]) / REQUESTS) * 1e6) };
}

const medianOf = <T>(runs: T[], pick: (run: T) => number) => median(runs.map(pick));

/**
 * Where the CPU goes, per request (medians of ROUNDS runs): the load generator, the API and
 * the proxy; the bare pass-through proxy beside ours; and the best ratio these costs allow on
 * this machine's cores (every process busy, none waiting): direct, the slowest of the client
 * and the API sets the pace; proxied, the three share the cores.
 */
async function cpuSplit(report: Report, at: { direct: () => Promise<unknown>; proxied: () => Promise<unknown>; api: number; proxy: number; token: string; apiUrl: string }): Promise<void> {
  const bare = await startApi(BARE_PROXY_SOURCE, [at.apiUrl, `Bearer ${at.token}`]);
  const agent = new Agent({ connections: CONCURRENCY });
  const viaBare = () => request(`${bare.url}/small`, { dispatcher: agent }).then((res) => res.body.arrayBuffer());
  try {
    type Run = Awaited<ReturnType<typeof cpuPerRequest>>;
    const runs = { direct: [] as Run[], proxied: [] as Run[], bare: [] as Run[] };
    for (let round = 0; round < ROUNDS; round++) {
      runs.direct.push(await cpuPerRequest(at.direct, [at.api]));
      runs.proxied.push(await cpuPerRequest(at.proxied, [at.api, at.proxy]));
      runs.bare.push(await cpuPerRequest(viaBare, [at.api, bare.pid]));
    }
    const client = medianOf(runs.direct, (r) => r.client);
    const api = medianOf(runs.direct, (r) => r.others[0]);
    const ours = medianOf(runs.proxied, (r) => r.others[1]);
    const floor = medianOf(runs.bare, (r) => r.others[1]);
    const proxiedClient = medianOf(runs.proxied, (r) => r.client);
    report({ name: "CPU per direct request: the load generator (baseline: the API)", value: client, unit: "µs", baseline: api, baselineName: "the API", higherIsBetter: false });
    report({ name: "CPU per proxied request: tokensmith proxy vs a bare pass-through proxy (node:http + undici, no checks)", value: ours, unit: "µs", baseline: floor, baselineName: "bare proxy", higherIsBetter: false });
    report({
      name: "bare pass-through proxy throughput, small JSON",
      value: medianOf(runs.bare, (r) => r.rate),
      unit: "requests/s",
      baseline: medianOf(runs.direct, (r) => r.rate),
      baselineName: "direct",
      higherIsBetter: true,
    });
    const cores = availableParallelism();
    const bound = (proxy: number) => cores / (proxiedClient + api + proxy) / Math.min(1 / client, 1 / api, cores / (client + api));
    report({ name: `best ratio these CPU costs allow on ${cores} cores: tokensmith proxy (baseline: the bare proxy)`, value: bound(ours), unit: "x", baseline: bound(floor), baselineName: "bare proxy", higherIsBetter: true });
  } finally {
    await agent.close();
    bare.stop();
  }
}

/** Requests per second of each sender, median of alternating rounds after a warm-up of both. */
function compare(plain: () => Promise<unknown>, ours: () => Promise<unknown>): Promise<{ plain: number; ours: number }> {
  return alternating(plain, ours, throughput, ROUNDS);
}

async function throughput(send: () => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < REQUESTS) await send();
    }),
  );
  return REQUESTS / ((performance.now() - started) / 1000);
}

/** Median seconds per request, one at a time, alternating direct and proxied. */
async function latencies(plain: () => Promise<unknown>, ours: () => Promise<unknown>): Promise<{ plain: number; ours: number }> {
  const times = { plain: [] as number[], ours: [] as number[] };
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    for (const [key, send] of [["plain", plain], ["ours", ours]] as const) {
      const started = performance.now();
      await send();
      times[key].push((performance.now() - started) / 1000);
    }
  }
  return { plain: median(times.plain.slice(100)), ours: median(times.ours.slice(100)) };
}

/** Peak RSS growth of the proxy process during the download (read and dropped by this one). */
async function downloadGrowth(url: string, headers: Record<string, string>, agent: Agent, pid: number, size: number): Promise<{ rss: number; seconds: number }> {
  // Reset the peak (VmHWM) to the current resident set, so the throughput rounds before do not count.
  await writeFile(`/proc/${pid}/clear_refs`, "5").catch(() => {});
  const before = await rssOf(pid);
  const started = performance.now();
  const res = await request(url, { dispatcher: agent, headers });
  let bytes = 0;
  for await (const chunk of res.body) bytes += (chunk as Buffer).length;
  if (bytes !== size) throw new Error(`downloaded ${bytes} bytes`);
  const seconds = (performance.now() - started) / 1000;
  const after = await rssOf(pid);
  // VmHWM is the peak since the reset: growth is the peak above the resident set before.
  return { rss: Math.max(0, after.peak - before.rss), seconds };
}

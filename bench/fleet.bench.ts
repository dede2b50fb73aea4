import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { demoConfig } from "../src/demo/config.js";
import { startDemoServer, type DemoServer } from "../src/demo/server.js";
import { minimumTokenRequests } from "../src/lifecycle/timing.js";
import { createMemoryStore } from "../src/store/memory.js";
import type { Store } from "../src/store/types.js";
import { TokenSmith } from "../src/tokensmith.js";
import { bundleFleetHost, dropStoreSection, fleetTotals, runFleet, SHARED_URL, storeSection, writeHostConfigs, type NetworkStoreKind } from "../test/e2e/fixtures/fleet.js";
import { median, type Report } from "./report.js";
import { internals } from "../src/lifecycle/handle.js";

/**
 * The networked stores across a fleet (issue 6, SPEC §2.1, §2.10): token requests made by
 * hosts sharing one Postgres or Redis store, against the minimum; and what each store adds to
 * `accessToken()`: nothing on a cache hit (in-process, whatever the store), one store read and
 * decrypt for a fresh TokenSmith, measured against the memory store. The hosts are the fleet
 * acceptance test's own (test/e2e/fixtures/fleet-host.ts), on the shared test servers.
 */

const NETWORKED: NetworkStoreKind[] = ["postgres", "redis"];
/** The acceptance fleet, on a shorter run: 3 hosts x 20 callers, 10 s of 2-second tokens. */
const HOSTS = 3;
const CALLERS = 20;
const RUN_MS = 10_000;
const TOKEN_TTL_S = 2;
/** The connection with rotating refresh tokens. */
const CONNECTION = "demo-password";
/** Cached calls per round, and rounds (the median round is reported): a few ms each. */
const HOT_CALLS = 100_000;
const HOT_ROUNDS = 5;
/** Fresh TokenSmith instances per store (each opens its own store, and for the networked ones its own connection). */
const FRESH = 15;
/** Store reads per store on an open connection. */
const READS = 200;

type StoreKind = "memory" | "file" | NetworkStoreKind;

export async function run(report: Report): Promise<void> {
  const host = await bundleFleetHost();
  try {
    for (const kind of NETWORKED) await acrossHosts(report, kind, host.path);
  } finally {
    await rm(host.dir, { recursive: true, force: true });
  }
  await perCallLatency(report);
}

/** Token requests of the fleet on one store vs SPEC §2.10's minimum. */
async function acrossHosts(report: Report, kind: NetworkStoreKind, child: string): Promise<void> {
  const server = await startDemoServer({ accessTokenTtl: TOKEN_TTL_S, quiet: true });
  const dir = await mkdtemp(join(tmpdir(), "tokensmith-bench-"));
  const { section, name } = storeSection(kind, SHARED_URL[kind]);
  try {
    const configs = await writeHostConfigs(server, dir, section, HOSTS);
    const results = await runFleet({ child, configs, connection: CONNECTION, callers: CALLERS, runMs: RUN_MS, tokenTtlMs: TOKEN_TTL_S * 1000 });
    const total = fleetTotals(results);
    const { byGrant, byOutcome } = server.stats;
    report({
      name: `token requests, ${HOSTS} hosts x ${CALLERS} callers on one ${kind} store, ${RUN_MS / 1000} s of ${TOKEN_TTL_S}-second rotating tokens (${total.calls.toLocaleString("en-US")} calls, ${total.failed} failed, ${byOutcome.invalid_grant ?? 0} invalid_grant)`,
      value: (byGrant.password ?? 0) + (byGrant.refresh_token ?? 0),
      unit: "requests",
      baseline: minimumTokenRequests(RUN_MS, TOKEN_TTL_S * 1000),
      baselineName: "SPEC §2.10 minimum",
      goal: "1.000x (exactly the minimum)",
    });
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
    await dropStoreSection(kind, SHARED_URL[kind], name);
  }
}

/** One store to measure: how a TokenSmith is opened on it, and what to clean up. */
interface Subject {
  kind: StoreKind;
  open(): Promise<TokenSmith>;
  cleanup(): Promise<void>;
}

async function subject(kind: StoreKind, server: DemoServer, dir: string): Promise<Subject> {
  const config = demoConfig(server, { dir: join(dir, kind) }) as { store: unknown };
  if (kind === "memory") {
    // One store shared by every TokenSmith, as the file or a database is: a fresh instance finds the token there.
    const store: Store = createMemoryStore();
    config.store = { type: "memory" };
    return { kind, open: () => TokenSmith.load({ config, env: {}, store }), cleanup: async () => {} };
  }
  if (kind === "file") return { kind, open: () => TokenSmith.load({ config, env: {} }), cleanup: async () => {} };
  const { section, name } = storeSection(kind, SHARED_URL[kind]);
  config.store = section;
  return { kind, open: () => TokenSmith.load({ config, env: {} }), cleanup: () => dropStoreSection(kind, SHARED_URL[kind], name) };
}

interface Latency {
  hotNs: number;
  firstMs: number;
  readMs: number;
}

/** Median ns per cached call for each primed connection; rounds alternate between stores so a busy moment of the machine hits them all. */
async function hotPath(connections: Array<{ accessToken(): Promise<string> }>): Promise<number[]> {
  const rounds = connections.map(() => [] as number[]);
  for (let round = 0; round <= HOT_ROUNDS; round++) {
    for (const [k, connection] of connections.entries()) {
      const t0 = performance.now();
      for (let i = 0; i < HOT_CALLS; i++) await connection.accessToken();
      if (round > 0) rounds[k].push(((performance.now() - t0) * 1e6) / HOT_CALLS); // round 0 warms the JIT up
    }
  }
  return rounds.map(median);
}

/** A store read on an open store, and a fresh TokenSmith's first accessToken(), for one store holding a token. */
async function coldPaths(s: Subject, primer: TokenSmith): Promise<Omit<Latency, "hotNs">> {
  const { store, fingerprint } = await internals(primer.connection("demo-service")).setup();
  const reads: number[] = [];
  for (let i = 0; i < READS; i++) {
    const t0 = performance.now();
    await store.get(`state:${fingerprint}`);
    reads.push(performance.now() - t0);
  }
  const first: number[] = [];
  for (let i = 0; i < FRESH; i++) {
    const fresh = await s.open();
    try {
      const c = fresh.connection("demo-service");
      await internals(c).setup(); // config, connection, store object: not the part measured
      const t0 = performance.now();
      await c.accessToken();
      first.push(performance.now() - t0);
    } finally {
      await fresh.close();
    }
  }
  return { firstMs: median(first), readMs: median(reads) };
}

/** The three figures for every store, each holding a long-lived token first. */
async function measure(subjects: Subject[]): Promise<Map<StoreKind, Latency>> {
  const primers: TokenSmith[] = [];
  try {
    for (const s of subjects) primers.push(await s.open());
    const connections = primers.map((p) => p.connection("demo-service"));
    for (const c of connections) await c.accessToken(); // the one token request per store; everything below is cached
    const hot = await hotPath(connections);
    const out = new Map<StoreKind, Latency>();
    for (const [k, s] of subjects.entries()) out.set(s.kind, { hotNs: hot[k], ...(await coldPaths(s, primers[k])) });
    return out;
  } finally {
    await Promise.all(primers.map((p) => p.close()));
  }
}

/** What a cached `accessToken()` costs per call with each store, and a fresh TokenSmith's first one. */
async function perCallLatency(report: Report): Promise<void> {
  const server = await startDemoServer({ quiet: true }); // hour-long tokens: nothing expires while measuring
  const dir = await mkdtemp(join(tmpdir(), "tokensmith-bench-"));
  try {
    const subjects: Subject[] = [];
    let results: Map<StoreKind, Latency>;
    try {
      for (const kind of ["memory", "file", "postgres", "redis"] as StoreKind[]) subjects.push(await subject(kind, server, dir));
      results = await measure(subjects);
    } finally {
      await Promise.all(subjects.map((s) => s.cleanup()));
    }
    const base = results.get("memory")!;
    for (const [kind, r] of results) {
      if (kind === "memory") continue;
      report({ name: `cached accessToken() per call, ${kind} store (in-process hit)`, value: r.hotNs, unit: "ns", baseline: base.hotNs, baselineName: "memory store", goal: "~1x: no store on the hot path" });
    }
    for (const [kind, r] of results) {
      if (kind === "memory") continue;
      report({
        name: `first accessToken() of a fresh TokenSmith on a stored token, ${kind} store (read + decrypt${kind === "file" ? "" : ", first connection"})`,
        value: r.firstMs,
        unit: "ms",
        baseline: base.firstMs,
        baselineName: "memory store",
      });
    }
    for (const [kind, r] of results) {
      if (kind === "memory") continue;
      report({ name: `store read + decrypt of a token state on an open ${kind} store (a host re-reading at the margin)`, value: r.readMs, unit: "ms", baseline: base.readMs, baselineName: "memory store" });
    }
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

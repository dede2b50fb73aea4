import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { stringify } from "yaml";
import { demoConfig } from "../src/demo/config.js";
import { startDemoServer, type DemoServer } from "../src/demo/server.js";
import { minimumTokenRequests } from "../src/lifecycle/timing.js";
import { TokenSmith } from "../src/tokensmith.js";
import { bundleChild } from "../test/e2e/fixtures/bundle-child.js";
import type { FirstArgs, LoadArgs, LoadResult } from "../test/e2e/fixtures/tokensmith-child.js";
import { startChild } from "../test/store/child-process.js";
import { median, type Report } from "./report.js";

/**
 * The file store across processes (SPEC §2.1, §2.10): token requests made by many processes
 * sharing one store, what a fresh process pays for its first cached token, and what the CLI
 * costs over a bare Node start. Child processes are the acceptance tests' own
 * (test/e2e/fixtures/tokensmith-child.ts), bundled like the CLI so that module loading
 * through tsx is not what gets measured.
 */

const ROOT = resolve(import.meta.dirname, "..");
const CHILD_SOURCE = join(ROOT, "test", "e2e", "fixtures", "tokensmith-child.ts");
const BIN = join(ROOT, "bin", "tokensmith.js");
/** The acceptance scenario: 8 processes x 25 callers for 20 s of 2-second tokens. */
const PROCESSES = 8;
const CALLERS = 25;
const RUN_MS = 20_000;
const TOKEN_TTL_S = 2;
/** Process starts per measured variant; the median is reported. */
const STARTS = 10;
/** Starts of each CLI variant (they are short, and the ratio is the figure that matters). */
const CLI_STARTS = 40;

export async function run(report: Report): Promise<void> {
  const child = await bundleChild(CHILD_SOURCE);
  try {
    await acrossProcesses(report, child.path);
    const server = await startDemoServer({ quiet: true });
    const dir = await mkdtemp(join(tmpdir(), "tokensmith-bench-"));
    try {
      const config = await primedConfig(server, dir);
      firstCachedToken(report, config, child.path);
      cliToken(report, config);
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  } finally {
    await rm(child.dir, { recursive: true, force: true });
  }
}

async function writeConfig(server: DemoServer, dir: string): Promise<string> {
  const path = join(dir, "tokensmith.yaml");
  await writeFile(path, stringify(demoConfig(server, { dir: join(dir, "store") })), { mode: 0o600 });
  return path;
}

/** Token requests of 8 processes sharing one file store, per connection, vs SPEC §2.10's minimum. */
async function acrossProcesses(report: Report, child: string) {
  const server = await startDemoServer({ accessTokenTtl: TOKEN_TTL_S, quiet: true });
  const dir = await mkdtemp(join(tmpdir(), "tokensmith-bench-"));
  const connections = ["demo-service", "demo-password"];
  const children: ReturnType<typeof startChild>[] = [];
  try {
    const config = await writeConfig(server, dir);
    const args: LoadArgs = { command: "load", config, connections, callers: CALLERS, runMs: RUN_MS };
    for (let i = 0; i < PROCESSES; i++) children.push(startChild(child, args, []));
    await Promise.all(children.map((c) => c.next("ready")));
    for (const c of children) c.send("go");
    await new Promise((r) => setTimeout(r, RUN_MS));
    const reports = await Promise.all(children.map((c) => c.next("done")));
    const minimum = minimumTokenRequests(RUN_MS, TOKEN_TTL_S * 1000);
    const { byGrant } = server.stats;
    const requests: Record<string, number> = {
      "demo-service": byGrant.client_credentials ?? 0,
      "demo-password": (byGrant.password ?? 0) + (byGrant.refresh_token ?? 0),
    };
    for (const name of connections) {
      const calls = reports.reduce((n, r) => n + (r.results as Record<string, LoadResult>)[name].calls, 0);
      report({
        name: `token requests, ${PROCESSES} processes x ${CALLERS} callers on one file store, ${RUN_MS / 1000} s of ${TOKEN_TTL_S}-second tokens, ${name} (${calls.toLocaleString("en-US")} calls)`,
        value: requests[name],
        unit: "requests",
        baseline: minimum,
        baselineName: "SPEC §2.10 minimum",
        goal: "1.000x (exactly the minimum)",
      });
    }
  } finally {
    await Promise.all(children.map((c) => c.kill()));
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** A config whose demo-service token is already in the store. */
async function primedConfig(server: DemoServer, dir: string): Promise<string> {
  const config = await writeConfig(server, dir);
  const ts = await TokenSmith.load({ config, env: {} });
  await ts.connection("demo-service").accessToken();
  await ts.close();
  return config;
}

/** A fresh process's first accessToken() on a cached token: the store read and decrypt, and with opening the store. */
function firstCachedToken(report: Report, config: string, child: string) {
  const args: FirstArgs = { command: "first", config, connection: "demo-service" };
  const runs: Array<{ loadMs: number; setupMs: number; readMs: number }> = [];
  for (let i = 0; i <= STARTS; i++) {
    const proc = spawnSync(process.execPath, [child], { cwd: ROOT, env: { ...process.env, CHILD_ARGS: JSON.stringify(args) }, encoding: "utf8" });
    const line = proc.stdout.split("\n").find((l) => l.includes('"event":"first"'));
    if (!line) throw new Error(`the first-token child failed: ${proc.stderr}`);
    if (i > 0) runs.push(JSON.parse(line)); // the first start warms the disk cache
  }
  report({
    name: "first accessToken() of a fresh process on a cached token: store read + decrypt",
    value: median(runs.map((r) => r.readMs)),
    unit: "ms",
  });
  report({
    name: "the same with opening the store first (resolving the connection, key file, folder checks)",
    value: median(runs.map((r) => r.setupMs + r.readMs)),
    unit: "ms",
  });
}

/**
 * `tokensmith token NAME` with a cached token vs the cheapest Node process, both in a minimal
 * environment (PATH with node's folder, HOME). The first, uncounted start puts the config in
 * the CLI's config cache and leaves the connection's token route, as every run but the first
 * after an edit finds them: the runs measured take the fast path (src/cli/fast-token.ts).
 * `--verbose` takes the full CLI, for comparison. Starts are interleaved, so that other load on
 * the machine weighs on each variant alike; medians of CLI_STARTS.
 */
function cliToken(report: Report, config: string) {
  // bench.mjs compiles dist/ but the launcher prefers the bundle: make sure it is current.
  const bundled = spawnSync(process.execPath, ["scripts/bundle.mjs"], { cwd: ROOT, stdio: "inherit" });
  if (bundled.status !== 0) throw new Error("bundling the CLI failed");
  const env = { PATH: `/usr/bin:/bin:${dirname(process.execPath)}`, HOME: process.env.HOME };
  const variants = { bare: ["-e", "0"], fast: [BIN, "token", "demo-service", "--config", config], full: [BIN, "token", "demo-service", "--config", config, "--verbose"] };
  const times: Record<keyof typeof variants, number[]> = { bare: [], fast: [], full: [] };
  for (let i = 0; i <= CLI_STARTS; i++) {
    for (const [name, args] of Object.entries(variants) as Array<[keyof typeof variants, string[]]>) {
      const t0 = performance.now();
      const child = spawnSync(process.execPath, args, { cwd: ROOT, env, encoding: "utf8" });
      const ms = performance.now() - t0;
      if (child.status !== 0) throw new Error(`${args.join(" ")} failed: ${child.stderr}`);
      if (i > 0) times[name].push(ms);
    }
  }
  const bare = median(times.bare);
  report({
    name: "`tokensmith token NAME` with a cached token (process start to exit)",
    value: median(times.fast),
    unit: "ms",
    baseline: bare,
    baselineName: "node -e 0",
    goal: "<= 1.5x",
  });
  report({
    name: "the same through the full CLI (`--verbose`, which the fast path leaves to it)",
    value: median(times.full),
    unit: "ms",
    baseline: bare,
    baselineName: "node -e 0",
  });
}

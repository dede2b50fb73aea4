#!/usr/bin/env node
// The whole test suite: compile (CLI tests run the built binary), then node's test runner
// over every test/**/*.test.ts. Extra arguments narrow the run: `npm test -- test/store`.
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const args = process.argv.slice(2);

function collect(path, out = []) {
  const st = statSync(path);
  if (st.isFile()) {
    if (path.endsWith(".test.ts")) out.push(path);
    return out;
  }
  for (const entry of readdirSync(path).sort()) {
    if (entry === "node_modules" || entry === "fixtures") continue;
    collect(join(path, entry), out);
  }
  return out;
}

// The full build (tsc, then the CLI bundle bin/tokensmith.js prefers), so CLI tests run today's code.
const build = spawnSync("npm", ["run", "--silent", "build"], { cwd: root, stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);
// Tests run through tsx, which strips types without checking them: check them too, beside the
// tests (the test processes leave about a third of two cores idle while they wait on servers),
// its output held back to the end so it does not cut through the test report.
const typecheck =
  args.length === 0
    ? new Promise((done) => {
        const child = spawn("npx", ["tsc", "-p", "tsconfig.json", "--noEmit"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        child.stdout.on("data", (chunk) => (output += chunk));
        child.stderr.on("data", (chunk) => (output += chunk));
        child.on("close", (code) => done({ code: code ?? 1, output }));
      })
    : Promise.resolve({ code: 0, output: "" });

// The longest files first (longest-processing-time order): a long file started last would run
// alone at the end. Measured in CI (seconds, on this 2-core machine): the real servers ~60 (four
// files), the fleets 35-55, the store conformance and outage suites 35-45, the multi-process file
// store ~35.
const SLOW_FIRST = [
  "test/e2e/fleet.test.ts",
  "test/e2e/multiprocess.test.ts",
  "test/e2e/fleet-redis-ha.test.ts",
  "test/lifecycle/transfer.test.ts",
  "test/servers/dot.test.ts",
  "test/flows/login-cli.test.ts",
  "test/servers/authlib.test.ts",
  "test/servers/node-oauth.test.ts",
  "test/store/redis.test.ts",
  "test/store/postgres.test.ts",
  "test/gateway/proxy-clients.test.ts",
  "test/e2e/library.test.ts",
  "test/gateway/dashboard-browser.test.ts",
].map((p) => resolve(root, p));
const rank = (file) => {
  const i = SLOW_FIRST.indexOf(file);
  return i === -1 ? SLOW_FIRST.length : i;
};
const files = (args.length ? args : ["test"]).flatMap((p) => collect(resolve(root, p))).sort((a, b) => rank(a) - rank(b));
if (files.length === 0) {
  console.error("no test files found");
  process.exit(1);
}
// Three files at a time on two cores: a third of the time a test file waits on a server, a
// child process or a timer (measured: 1.4 cores busy with two at a time). 406 s → 316 s of tests.
const CONCURRENCY = 3;
const tests = await new Promise((done) => {
  const child = spawn(process.execPath, ["--import", "tsx", "--test", `--test-concurrency=${CONCURRENCY}`, "--test-timeout=120000", ...files], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, TOKENSMITH_TEST: "1" },
  });
  child.on("close", (code) => done(code ?? 1));
});
const checked = await typecheck;
if (checked.code !== 0) {
  process.stderr.write(`${checked.output}\nthe type check failed (npx tsc -p tsconfig.json --noEmit)\n`);
}
process.exit(tests !== 0 ? tests : checked.code);

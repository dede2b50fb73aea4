import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { cliProcess, hasStackTrace, type CliResult } from "../support/cli.js";
import { withDemoServer } from "../support/demo.js";
import { FAKE_BROWSER, startCli, writeLoginConfig } from "./cli-support.js";

/**
 * `tokensmith login` refusals, each with a clear message and its SPEC §3 exit code: 3 for an
 * OAuth refusal (state, iss, access_denied, timeout, a login in progress), 2 for usage and a
 * busy configured port. The built binary runs with a stand-in browser that misbehaves on cue.
 */

const REFUSED = 3;
const USAGE = 2;
/** The stand-in browser is a detached process: it may write its log a moment after the CLI exits. */
const BROWSER_LOG_WAIT_MS = 3_000;

/** The stand-in browser's log entry for `step`, once written (or undefined when it never is). */
async function browserLog(log: string, step: string): Promise<Record<string, any> | undefined> {
  for (const until = Date.now() + BROWSER_LOG_WAIT_MS; Date.now() < until; await sleep(50)) {
    const entries = (await readFile(log, "utf8").catch(() => "")).split("\n").filter(Boolean).map((line) => JSON.parse(line));
    const found = entries.find((e) => e.step === step);
    if (found) return found;
  }
  return undefined;
}

/** Runs `login demo-user` with the stand-in browser in `mode`; returns the result and the page it saw. */
async function loginWith(t: TestContext, mode: string, args: string[] = []): Promise<CliResult & { page?: { status: number; body: string } }> {
  const server = await withDemoServer(t, { autoLogin: true });
  const { path, dir } = await writeLoginConfig(t, server);
  const log = join(dir, "browser.log");
  const result = await cliProcess(["--config", path, "login", "demo-user", ...args], { env: { BROWSER: FAKE_BROWSER, FAKE_BROWSER_MODE: mode, FAKE_BROWSER_LOG: log } });
  assert.equal(server.stats.byGrant.authorization_code ?? 0, 0, "no code was exchanged");
  assert.ok(!hasStackTrace(result.stderr), result.stderr);
  const page = ["ignore", "deny"].includes(mode) ? undefined : await browserLog(log, "callback");
  return { ...result, page: page as { status: number; body: string } | undefined };
}

describe("tokensmith login refusals (built binary)", () => {
  for (const [mode, message] of [
    ["wrong-state", /the authorization response's state does not match this login/],
    ["no-state", /the authorization response has no state/],
    ["wrong-iss", /comes from issuer https:\/\/evil\.example\.com, not http:\/\/127\.0\.0\.1:\d+ \(RFC 9207\)/],
  ] as const) {
    it(`refuses a callback with ${mode.replace("-", " ")}: exit 3, and the browser page says it failed`, async (t) => {
      const result = await loginWith(t, mode);
      assert.equal(result.code, REFUSED, result.stderr);
      assert.match(result.stderr, message);
      assert.match(result.stderr, /hint: .*the code was not used/);
      assert.equal(result.page?.status, 400);
      assert.match(result.page?.body ?? "", /Login failed/);
    });
  }

  it("reports access_denied with the server's description: exit 3", async (t) => {
    const result = await loginWith(t, "deny");
    assert.equal(result.code, REFUSED, result.stderr);
    assert.match(result.stderr, /the authorization server answered access_denied: End-User cancelled the sign-in/);
    assert.match(result.stderr, /hint: the authorization was declined/);
  });

  it("gives up a login not finished in time: exit 3", async (t) => {
    const result = await loginWith(t, "ignore", ["--timeout", "1"]);
    assert.equal(result.code, REFUSED, result.stderr);
    assert.match(result.stderr, /the browser did not come back to the redirect URI within 1 s; the login was given up/);
  });

  it("refuses a second login while one is in progress, naming its pid@host: exit 3; Ctrl-C frees the lock", async (t) => {
    const server = await withDemoServer(t, { autoLogin: true });
    const { path } = await writeLoginConfig(t, server);
    const first = startCli(t, ["--config", path, "login", "demo-user", "--timeout", "20"], { BROWSER: FAKE_BROWSER, FAKE_BROWSER_MODE: "ignore" });
    await first.stderrMatching(/waiting for the redirect/);
    const second = await cliProcess(["--config", path, "login", "demo-user"], { env: { BROWSER: FAKE_BROWSER } });
    assert.equal(second.code, REFUSED, second.stderr);
    assert.match(second.stderr, new RegExp(`login in progress \\(${first.pid}@[^)]+\\)`));
    assert.match(second.stderr, /--wait/);

    const token = await cliProcess(["--config", path, "token", "demo-user"]);
    assert.equal(token.code, REFUSED, "token neither waits for the login nor opens a browser");
    assert.match(token.stderr, /a login is needed/);

    first.signal("SIGINT");
    const interrupted = await first.done;
    assert.match(interrupted.stderr, /cancelled/);
    const third = await cliProcess(["--config", path, "login", "demo-user"], { env: { BROWSER: FAKE_BROWSER } });
    assert.equal(third.code, 0, third.stderr);
  });

  it("gives the login lock back when stopped by SIGTERM (timeout, docker stop), not only by Ctrl-C", async (t) => {
    const server = await withDemoServer(t, { autoLogin: true });
    const { path } = await writeLoginConfig(t, server);
    const first = startCli(t, ["--config", path, "login", "demo-user", "--timeout", "20"], { BROWSER: FAKE_BROWSER, FAKE_BROWSER_MODE: "ignore" });
    await first.stderrMatching(/waiting for the redirect/);
    first.signal("SIGTERM");
    assert.match((await first.done).stderr, /cancelled/);
    const next = await cliProcess(["--config", path, "login", "demo-user"], { env: { BROWSER: FAKE_BROWSER } });
    assert.equal(next.code, 0, next.stderr);
  });

  it("says which port is busy when the configured redirect_uri's port is taken: exit 2", async (t) => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    t.after(() => new Promise<void>((resolve) => holder.close(() => resolve())));
    const port = (holder.address() as { port: number }).port;
    const server = await withDemoServer(t, { autoLogin: true });
    const { path } = await writeLoginConfig(t, server, (config) => {
      config.connections["demo-user"].redirect_uri = `http://127.0.0.1:${port}/callback`;
    });
    const result = await cliProcess(["--config", path, "login", "demo-user"], { env: { BROWSER: FAKE_BROWSER } });
    assert.equal(result.code, USAGE, result.stderr);
    assert.match(result.stderr, new RegExp(`port ${port} of redirect_uri \\(127\\.0\\.0\\.1\\) is in use`));
    assert.match(result.stderr, /hint: .*change redirect_uri/);
  });

  it("refuses --manual with --device, and a connection that needs no login: exit 2", async (t) => {
    const server = await withDemoServer(t);
    const { path } = await writeLoginConfig(t, server);
    const both = await cliProcess(["--config", path, "login", "demo-user", "--manual", "--device"]);
    assert.equal(both.code, USAGE);
    assert.match(both.stderr, /choose one/);
    const service = await cliProcess(["--config", path, "login", "demo-service"]);
    assert.equal(service.code, USAGE);
    assert.match(service.stderr, /uses the client_credentials grant: there is nothing to log in to/);
  });

  it("refuses an empty paste in the manual flow: exit 2", async (t) => {
    const server = await withDemoServer(t);
    const { path } = await writeLoginConfig(t, server);
    const result = await cliProcess(["--config", path, "login", "demo-user", "--manual"], { stdin: "\n" });
    assert.equal(result.code, USAGE, result.stderr);
    assert.match(result.stderr, /nothing was pasted/);
  });

  it("with no browser opener (no $BROWSER, no xdg-open) says at once to use --device or --manual, not after the timeout", async (t) => {
    const server = await withDemoServer(t, { autoLogin: true });
    const { path, dir } = await writeLoginConfig(t, server);
    // A PATH with no opener in it (the binary runs under node's absolute path).
    const started = Date.now();
    const result = await cliProcess(["--config", path, "login", "demo-user", "--timeout", "30"], { env: { PATH: dir, BROWSER: "" } });
    assert.equal(result.code, USAGE, result.stderr);
    assert.match(result.stderr, /no browser could be opened to log in to "demo-user"/);
    assert.match(result.stderr, /tokensmith login demo-user --device.*tokensmith login demo-user --manual/);
    assert.ok(Date.now() - started < 60_000, "it did not wait for the login timeout");
    assert.ok(!hasStackTrace(result.stderr), result.stderr);
  });
});

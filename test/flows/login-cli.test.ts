import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { cliProcess } from "../support/cli.js";
import { callApi, withDemoServer } from "../support/demo.js";
import { assertMatchesSchema } from "../support/json-schema.js";
import { FAKE_BROWSER, printedUrl, startCli, writeLoginConfig } from "./cli-support.js";
import { browse } from "./fixtures/browser.mjs";

/**
 * `tokensmith login` end to end: the built binary, the demo authorization server, and a
 * stand-in browser started through `$BROWSER` that signs in and follows the redirect.
 * (Needs the build: `npx tsc -p tsconfig.build.json && node scripts/bundle.mjs`.)
 */

/**
 * 4-second tokens: usable for 2.6 s (SPEC §2.10: one second off a whole-number expires_in, then
 * a skew allowance of 10%), time enough for a login and two CLI runs on a loaded machine.
 */
const TOKEN_TTL_S = 4;
const PAST_EXPIRY_MS = 4_100;

describe("tokensmith login (built binary) against the demo server", () => {
  it("logs in a public client through $BROWSER; token then works across refreshes with rotation", async (t) => {
    const server = await withDemoServer(t, { autoLogin: true, accessTokenTtl: TOKEN_TTL_S });
    const { path, dir } = await writeLoginConfig(t, server);
    const log = join(dir, "browser.log");
    const login = await cliProcess(["--config", path, "login", "demo-user"], { env: { BROWSER: FAKE_BROWSER, FAKE_BROWSER_LOG: log } });
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.stdout, "");
    assert.match(login.stderr, /Opened a browser to log in to "demo-user"/);
    assert.match(printedUrl(login.stderr), /\/auth\?response_type=code&client_id=demo-public/);
    assert.match(login.stderr, /logged in: "demo-user", scope "openid", access token valid until .*, refresh token stored/);
    const callback = (await readFile(log, "utf8")).split("\n").filter(Boolean).map((line) => JSON.parse(line)).find((e) => e.step === "callback");
    assert.equal(callback.status, 200);
    assert.equal(callback.referrerPolicy, "no-referrer");
    assert.match(callback.body, /Logged in/);

    const token = async () => {
      const result = await cliProcess(["--config", path, "token", "demo-user"]);
      assert.equal(result.code, 0, result.stderr);
      return result.stdout.trim();
    };
    const first = await token();
    assert.equal((await callApi(server, "/whoami", first)).status, 200);
    assert.equal(await token(), first, "a valid token is reused");
    await sleep(PAST_EXPIRY_MS);
    const second = await token();
    assert.notEqual(second, first);
    assert.equal((await callApi(server, "/whoami", second)).status, 200);
    await sleep(PAST_EXPIRY_MS);
    const third = await token();
    assert.notEqual(third, second);
    assert.equal((await callApi(server, "/whoami", third)).status, 200);
    assert.equal(server.stats.byGrant.authorization_code, 1, "one login");
    assert.equal(server.stats.byGrant.refresh_token, 2, "two refreshes, each with the rotated refresh token");
    assert.equal(server.stats.refreshReuseDetected, 0);
  });

  it("logs in a confidential client and prints the result as JSON with --json, never the secret", async (t) => {
    const server = await withDemoServer(t, { autoLogin: true });
    const { path } = await writeLoginConfig(t, server);
    const login = await cliProcess(["--config", path, "--json", "login", "demo-confidential"], { env: { BROWSER: FAKE_BROWSER } });
    assert.equal(login.code, 0, login.stderr);
    const result = JSON.parse(login.stdout);
    assertMatchesSchema("login", result);
    assert.deepEqual({ ...result, expires_at: typeof result.expires_at }, {
      connection: "demo-confidential",
      flow: "browser",
      scope: "openid api:read",
      expires_at: "number",
      has_refresh_token: true,
      completed_elsewhere: false,
    });
    assert.ok(!`${login.stdout}${login.stderr}`.includes(server.clients.basic.clientSecret));
    const token = await cliProcess(["--config", path, "token", "demo-confidential"]);
    assert.equal(token.code, 0, token.stderr);
    assert.equal((await callApi(server, "/whoami", token.stdout.trim())).status, 200);
  });

  it("with --no-browser prints the URL instead of starting $BROWSER", async (t) => {
    const server = await withDemoServer(t, { autoLogin: true });
    const { path, dir } = await writeLoginConfig(t, server);
    const log = join(dir, "browser.log");
    const cli = startCli(t, ["--config", path, "login", "demo-user", "--no-browser"], { BROWSER: FAKE_BROWSER, FAKE_BROWSER_MODE: "ignore", FAKE_BROWSER_LOG: log });
    const stderr = await cli.stderrMatching(/waiting for the redirect/);
    assert.match(stderr, /open this URL in a browser on this machine/);
    await browse(printedUrl(stderr));
    const result = await cli.done;
    assert.equal(result.code, 0, result.stderr);
    await assert.rejects(readFile(log), "the browser command never ran");
  });

  it("device flow: shows the user code, opens verification_uri_complete, and stores the tokens", async (t) => {
    const server = await withDemoServer(t, { autoLogin: true, devicePolling: { interval: 1, slowDownStep: 1 } });
    const { path } = await writeLoginConfig(t, server);
    const login = await cliProcess(["--config", path, "login", "demo-user", "--device"], { env: { BROWSER: FAKE_BROWSER } });
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stderr, /visit http:\/\/127\.0\.0\.1:\d+\/device and enter the code:\n\n {2}[A-Z]{4}-[A-Z]{4}\n/);
    assert.match(login.stderr, /opened http:\/\/127\.0\.0\.1:\d+\/device\?user_code=/);
    assert.equal(server.stats.byOutcome.ok, 1);
    const token = await cliProcess(["--config", path, "token", "demo-user"]);
    assert.equal((await callApi(server, "/whoami", token.stdout.trim())).status, 200);
  });

  it("manual: reads the redirected URL pasted on stdin and checks its state", async (t) => {
    const server = await withDemoServer(t, { autoLogin: true });
    const { path } = await writeLoginConfig(t, server, (config) => {
      config.connections["demo-user"].redirect_uri = "http://localhost/callback";
    });
    const cli = startCli(t, ["--config", path, "login", "demo-user", "--manual"], { BROWSER: FAKE_BROWSER });
    const stderr = await cli.stderrMatching(/Redirected URL: $/);
    assert.match(stderr, /sent to http:\/\/localhost\/callback\?code=\.\.\./);
    const redirected = await browse(printedUrl(stderr), { mode: "capture" });
    assert.match(redirected ?? "", /^http:\/\/localhost\/callback\?code=/);
    cli.write(`${redirected}\n`);
    const result = await cli.done;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /logged in: "demo-user"/);
    const token = await cliProcess(["--config", path, "token", "demo-user"]);
    assert.equal((await callApi(server, "/whoami", token.stdout.trim())).status, 200);
  });

  it("manual: accepts the bare code on stdin", async (t) => {
    const server = await withDemoServer(t, { autoLogin: true });
    const { path } = await writeLoginConfig(t, server);
    const cli = startCli(t, ["--config", path, "login", "demo-user", "--manual"]);
    const redirected = await browse(printedUrl(await cli.stderrMatching(/Redirected URL: $/)), { mode: "capture" });
    cli.write(`${new URL(redirected!).searchParams.get("code")}\n`);
    const result = await cli.done;
    assert.equal(result.code, 0, result.stderr);
  });
});

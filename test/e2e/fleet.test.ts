import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { after, before, describe, it, type TestContext } from "node:test";
import { minimumTokenRequests } from "../../src/lifecycle/timing.js";
import { startPrivatePostgres, startPrivateRedis, type PrivateServer } from "../store/servers.js";
import { tmpDir, withDemoServer } from "../support/demo.js";
import { assertChainContinues, bundleFleetHost, dropStoreSection, fleetTotals, runFleet, SHARED_URL, storeSection, requestsOf, tokenProxy, writeHostConfigs, type NetworkStoreKind } from "./fixtures/fleet.js";

/**
 * Issue 6 acceptance: the Postgres and Redis stores with the real lifecycle across a fleet of
 * hosts (separate processes, each with its own config file and in-process cache) against the
 * demo server (oidc-provider, rotating refresh tokens with reuse detection): the fleet makes
 * the token requests of one process, and a store restart mid-run loses no refresh token.
 */

const KINDS: NetworkStoreKind[] = ["postgres", "redis"];
const HOSTS = 3;
const CALLERS = 20;
const RUN_MS = 10_000;
const TOKEN_TTL_S = 2;
/** The acceptance bound: the minimum of SPEC §2.10 (17 here: 10 s of 2-second tokens) plus one. */
const MAX_TOKEN_REQUESTS = minimumTokenRequests(RUN_MS, TOKEN_TTL_S * 1000) + 1;
/** The connection with rotating refresh tokens (a password grant once, then refreshes). */
const CONNECTION = "demo-password";

/** Long enough to see the fleet settle before the crash and recover after it. */
const RESTART_RUN_MS = 12_000;
/** After "go", the crash waits for the next refresh: a few refreshes in. */
const CRASH_AFTER_MS = 3_000;
/** How long the store stays down: longer than a token's whole usable life (1.8 s), so callers do run dry. */
const OUTAGE_MS = 3_000;
/**
 * Token request timeout of the restart runs, and with it the lease (timeout + 5 s) the
 * refresh in flight at the crash holds. Generous: a refresh that times out while the server
 * rotates the token anyway is retried with the old one (a reuse), and the request in flight
 * waits for the crash itself (pg_ctl, a SIGKILL) before it is forwarded; on a loaded two-core
 * machine the two together took over 3 s.
 */
const RESTART_TIMEOUT_S = 10;
/** Calls work again within this long after the restart: reconnecting and one refresh. */
const RESUME_WITHIN_MS = 2_000;

let child: string;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


async function privateServer(t: TestContext, kind: NetworkStoreKind): Promise<PrivateServer> {
  const server = kind === "postgres" ? await startPrivatePostgres() : await startPrivateRedis({ aof: true });
  t.after(() => server.destroy());
  return server;
}

describe("a fleet of hosts sharing a postgres or redis store", () => {
  let bundleDir: string;
  before(async () => {
    const bundled = await bundleFleetHost();
    ({ path: child, dir: bundleDir } = bundled);
  });
  after(() => rm(bundleDir, { recursive: true, force: true }));

  for (const kind of KINDS) {
    it(`${kind}: ${HOSTS} hosts x ${CALLERS} callers over ${RUN_MS / 1000} s of ${TOKEN_TTL_S}-second rotating tokens make at most ${MAX_TOKEN_REQUESTS} token requests, with no invalid_grant, no failed call, no expired token`, async (t) => {
      const server = await withDemoServer(t, { accessTokenTtl: TOKEN_TTL_S });
      const { section, name } = storeSection(kind, SHARED_URL[kind]);
      t.after(() => dropStoreSection(kind, SHARED_URL[kind], name));
      const configs = await writeHostConfigs(server, await tmpDir(t), section, HOSTS);
      const results = await runFleet({ child, configs, connection: CONNECTION, callers: CALLERS, runMs: RUN_MS, tokenTtlMs: TOKEN_TTL_S * 1000, checkUrl: `${server.apiUrl}/whoami` });

      const total = fleetTotals(results);
      const requests = requestsOf(server);
      const minimum = minimumTokenRequests(RUN_MS, TOKEN_TTL_S * 1000);
      t.diagnostic(
        `${kind}: ${requests} token requests across ${HOSTS} hosts (SPEC §2.10 minimum ${minimum}), per host ${results.map((r) => r.calls).join(" / ")} calls, ` +
          `${total.failed} failed, ${total.expired} expired, API ${total.apiCalls} checks, ${total.apiRejected} rejected, ${total.warnings} warnings`,
      );
      assert.equal(total.failed, 0, total.failures.join("\n"));
      assert.equal(total.expired, 0, "no caller got an expired token");
      assert.equal(total.apiRejected, 0, "every token was accepted by the API while valid");
      assert.ok(results.every((r) => r.calls > CALLERS * 50), "every host's callers really ran");
      assert.ok(requests <= MAX_TOKEN_REQUESTS, `${requests} token requests, minimum ${minimum}`);
      assert.equal(server.stats.byOutcome.invalid_grant ?? 0, 0);
      assert.equal(server.stats.refreshReuseDetected, 0);
      assert.equal(server.stats.byGrant.password, 1, "one login, then only refreshes");
    });
  }

  for (const kind of KINDS) {
    const crash = kind === "postgres" ? "pg_ctl stop -m immediate" : "SIGKILL, AOF with appendfsync always";
    it(`${kind}: a store crash (${crash}) while a refresh is in flight, and a restart ${OUTAGE_MS / 1000} s later, loses no refresh token; callers holding a valid token keep working, and calls resume by themselves`, async (t) => {
      const store = await privateServer(t, kind);
      const server = await withDemoServer(t, { accessTokenTtl: TOKEN_TTL_S });
      // The crash comes when a token request reaches the server, before it rotates the refresh
      // token: its sender holds the lease, and the answer it gets cannot be written until the restart.
      const outage = { armed: false, stoppedAt: 0, restartedAt: 0, restarted: Promise.resolve() };
      const proxy = await tokenProxy(server.endpoints.token, async () => {
        if (!outage.armed) return;
        outage.armed = false;
        outage.stoppedAt = Date.now();
        await store.stop();
        outage.restarted = sleep(OUTAGE_MS).then(async () => {
          await store.start();
          outage.restartedAt = Date.now();
        });
      });
      t.after(() => proxy.close());
      const { section } = storeSection(kind, store.url);
      const configs = await writeHostConfigs(server, await tmpDir(t), section, HOSTS, { timeoutS: RESTART_TIMEOUT_S, tokenUrl: proxy.url });
      const during = async () => {
        await sleep(CRASH_AFTER_MS);
        outage.armed = true;
      };
      const results = await runFleet({ child, configs, connection: CONNECTION, callers: CALLERS, runMs: RESTART_RUN_MS, tokenTtlMs: TOKEN_TTL_S * 1000, checkUrl: `${server.apiUrl}/whoami`, during });
      await outage.restarted;
      assert.ok(outage.restartedAt > 0, "no refresh came after the crash was armed");

      const total = fleetTotals(results);
      const since = (at: number | null) => (at === null ? "-" : `${at - outage.stoppedAt} ms`);
      t.diagnostic(
        `${kind}: store crashed during a refresh, down for ${outage.restartedAt - outage.stoppedAt} ms; ${requestsOf(server)} token requests (SPEC §2.10 minimum ${minimumTokenRequests(RESTART_RUN_MS, TOKEN_TTL_S * 1000)}), ` +
          `${total.calls} calls, ${total.failed} failed (${JSON.stringify(total.failureCodes)}) by ${total.callersFailed} of ${HOSTS * CALLERS} callers whose token ran out, ` +
          `${total.callersResumed} of them resumed; failures from ${since(total.firstFailureAt)} to ${since(total.lastFailureAt)} after the crash; ` +
          `${total.failedWhileValid} failed while holding a valid token, ${total.expired} expired tokens handed out, ${total.warnings} warnings`,
      );
      assert.ok(total.failed > 0, "no caller ran dry: the outage missed the run");
      assert.equal(total.failedWhileValid, 0, `a caller holding a valid token failed:\n${total.failures.join("\n")}`);
      assert.equal(total.expired, 0, "no caller got an expired token");
      assert.equal(total.apiRejected, 0, "every token was accepted by the API while valid");
      for (const code of Object.keys(total.failureCodes)) assert.ok(["store_error", "lock_timeout"].includes(code), `unexpected failure:\n${total.failures.join("\n")}`);
      if (total.firstFailureAt !== null) assert.ok(total.firstFailureAt >= outage.stoppedAt, "a call failed before the crash");
      if (total.lastFailureAt !== null) assert.ok(total.lastFailureAt <= outage.restartedAt + RESUME_WITHIN_MS, `calls still failed ${total.lastFailureAt - outage.restartedAt} ms after the restart`);
      assert.equal(total.callersResumed, total.callersFailed, "a caller never got a token again after the outage");
      try {
        await assertChainContinues(server, configs[0], CONNECTION);
      } catch (err) {
        // Which token request broke the chain, in ms from the crash.
        t.diagnostic(`token requests: ${server.stats.timeline.map((e) => `${e.at - outage.stoppedAt} ${e.grant} ${e.outcome}`).join(", ")}`);
        throw err;
      }
    });
  }
});

import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, it } from "node:test";
import { TokenSmith } from "../../src/index.js";
import { tmpDir, withDemoServer } from "../support/demo.js";
import { assertChainContinues, dropStoreSection, SHARED_URL, storeSection, tokenProxy, writeHostConfigs, type NetworkStoreKind } from "./fixtures/fleet.js";

/**
 * `close()` with a refresh in flight (here a background refresh inside the margin): the server
 * rotates the refresh token as it answers, so the answer must reach the store before the
 * store's connection closes, or the next process starts from a refresh token the server has
 * already spent (invalid_grant; with reuse detection the whole grant revoked). The store
 * engine's close() lets pending calls finish first (src/store/in-flight.ts). Against the demo
 * server (rotation with reuse detection) on the shared Postgres and Redis, whose close()
 * really disconnects.
 */

const CONNECTION = "demo-password";
/** How long the token endpoint holds the refresh: close() is called well inside it. */
const HOLD_MS = 600;

describe("close() with a refresh in flight", () => {
  for (const kind of ["postgres", "redis"] as NetworkStoreKind[]) {
    it(`${kind}: waits for a background refresh to write its rotated refresh token, and the next process continues the chain`, async (t) => {
      const server = await withDemoServer(t, { accessTokenTtl: 2 });
      let holding = false;
      let arrived = false;
      const proxy = await tokenProxy(server.endpoints.token, async () => {
        if (!holding) return;
        arrived = true;
        await sleep(HOLD_MS);
      });
      t.after(() => proxy.close());
      const { section, name } = storeSection(kind, SHARED_URL[kind]);
      t.after(() => dropStoreSection(kind, SHARED_URL[kind], name));
      const [config] = await writeHostConfigs(server, await tmpDir(t), section, 1, { tokenUrl: proxy.url });

      const ts = await TokenSmith.load({ config: config!, env: {}, refreshAhead: true });
      const first = await ts.connection(CONNECTION).accessToken();
      holding = true;
      // Inside the refresh margin of a 2-second token the caller still gets the current token,
      // and a refresh starts in the background: close() comes while the server holds it. (On a
      // machine stalled past the token's life the caller's own refresh is the one held: close()
      // must wait for that one just the same.)
      let served = first;
      while (!arrived) {
        await sleep(20);
        if (served === first) served = await ts.connection(CONNECTION).accessToken();
      }
      await ts.close();
      assert.equal(server.stats.byGrant.refresh_token, 1, "the background refresh was sent");
      assert.equal(server.stats.byOutcome.ok, 2, "and answered before close() returned");

      await assertChainContinues(server, config!, CONNECTION);
    });
  }
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createFileStore } from "../../src/store/file.js";
import { LIMITED_KEY, withDemoGateway } from "./support.js";
import { internals } from "../../src/lifecycle/handle.js";

/** How long the other holder keeps the lease: well above the "waited" threshold (50 ms). */
const HOLD_MS = 300;

/** The value of one sample line, e.g. `name{connection="x"}`; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("the gateway's /metrics", () => {
  it("counts token requests by result, cache hits, waits and refreshes in Prometheus text", async (t) => {
    const { api } = await withDemoGateway(t);
    await api("/v1/connections/demo-service/token");
    await api("/v1/connections/demo-service/token");
    await api("/v1/connections/demo-service/refresh", { method: "POST" });
    await api("/v1/connections/demo-user/token");
    const res = await api("/metrics");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text: string = res.body;
    assert.match(text, /^# HELP tokensmith_token_requests_total /m);
    assert.match(text, /^# TYPE tokensmith_token_requests_total counter$/m);
    assert.equal(sample(text, 'tokensmith_token_requests_total{connection="demo-service",result="ok"}'), 2);
    assert.equal(sample(text, 'tokensmith_token_requests_total{connection="demo-user",result="reauthorization_required"}'), 1);
    assert.equal(sample(text, 'tokensmith_cache_hits_total{connection="demo-service"}'), 1);
    assert.equal(sample(text, 'tokensmith_token_waits_total{connection="demo-service"}'), 1);
    assert.equal(sample(text, 'tokensmith_refreshes_total{connection="demo-service"}'), 2);
    assert.equal(sample(text, 'tokensmith_connection_token_requests{connection="demo-service"}'), 2);
    assert.equal(sample(text, 'tokensmith_connection_state{connection="demo-service",state="valid"}'), 1);
    // The health model (issue 13 item 1): one gauge per connection and health.
    assert.equal(sample(text, 'tokensmith_connection_health{connection="demo-service",health="ready"}'), 1);
    assert.equal(sample(text, 'tokensmith_connection_health{connection="demo-service",health="failing"}'), 0);
    assert.equal(sample(text, 'tokensmith_connection_health{connection="demo-user",health="login_required"}'), 1);
    assert.ok(sample(text, 'tokensmith_connection_expires_in_seconds{connection="demo-service"}')! > 3000);
    assert.ok(sample(text, "tokensmith_lock_acquisitions_total")! >= 2);
    for (const line of text.trim().split("\n")) assert.match(line, /^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? -?[\d.e+]+)$/, line);
  });

  it("counts a wait for a store lock (lease) held by another process", async (t) => {
    const { api, gateway, dir } = await withDemoGateway(t);
    const { manager } = await internals(gateway.tokensmith.connection("demo-service")).setup();
    const other = await createFileStore({ dir: join(dir, "store") });
    t.after(() => other.close());
    let held!: () => void;
    const holding = new Promise<void>((resolve) => (held = resolve));
    const holder = other.update(manager.key, async () => {
      held();
      await sleep(HOLD_MS);
      return undefined;
    }, { mode: "wait", holder: "test@elsewhere" });
    await holding;
    assert.equal((await api("/v1/connections/demo-service/refresh", { method: "POST" })).status, 200);
    await holder;
    const text: string = (await api("/metrics")).body;
    assert.equal(sample(text, "tokensmith_lock_waits_total"), 1);
    assert.ok(sample(text, "tokensmith_lock_wait_seconds_total")! >= (HOLD_MS - 50) / 1000);
  });

  it("shows a limited key only its own connections", async (t) => {
    const { api } = await withDemoGateway(t);
    await api("/v1/connections/demo-jwt/token");
    const text: string = (await api("/metrics", { key: LIMITED_KEY })).body;
    assert.doesNotMatch(text, /demo-jwt|demo-user/);
    assert.match(text, /connection="demo-service"/);
  });
});

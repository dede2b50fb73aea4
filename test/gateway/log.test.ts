import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CHROMIUM_SKIP, chromiumPage } from "../support/chromium.js";
import { cli } from "../support/cli.js";
import { assertMatchesSchema, assertSnakeCase } from "../support/json-schema.js";
import { LIMITED_KEY, signIn, withDemoGateway } from "./support.js";

describe("GET /v1/connections/NAME/log", () => {
  it("answers the document of `tokensmith log --json`, with no token in it", async (t) => {
    const { api, configPath } = await withDemoGateway(t);
    const token = await api("/v1/connections/demo-service/token");
    await api("/v1/connections/demo-service/refresh", { method: "POST" });
    const log = await api("/v1/connections/demo-service/log");
    assert.equal(log.status, 200);
    assertMatchesSchema("log", log.body);
    assertSnakeCase(log.body);
    assert.equal(log.body.connection, "demo-service");
    assert.deepEqual(log.body.entries.map((e: { grant: string; result: string }) => [e.grant, e.result]), [["client_credentials", "ok"], ["client_credentials", "ok"]]);
    assert.ok(!JSON.stringify(log.body).includes(token.body.access_token));
    const limited = await api("/v1/connections/demo-service/log?limit=1");
    assert.equal(limited.body.entries.length, 1);
    // The CLI reads the same store: the same entries.
    const { stdout } = await cli(["log", "demo-service", "--json", "--config", configPath]);
    assert.deepEqual(JSON.parse(stdout).entries, log.body.entries);
  });

  it("names to a limited key no connection it may not use: the shared state's other connection goes unnamed in the log and the status", async (t) => {
    const { api } = await withDemoGateway(t, {
      // The same settings, so the same token state (§2.1): demo-copy shares demo-service's.
      patch: (config) => void (config.connections["demo-copy"] = { ...config.connections["demo-service"] }),
    });
    await api("/v1/connections/demo-copy/refresh", { method: "POST" });
    const full = await api("/v1/connections/demo-service/log");
    assert.deepEqual(full.body.shared_with, ["demo-copy"]);
    assert.equal(full.body.entries[0].connection, "demo-copy");
    const log = await api("/v1/connections/demo-service/log", { key: LIMITED_KEY });
    assertMatchesSchema("log", log.body);
    assert.deepEqual(log.body.shared_with, []);
    assert.equal(log.body.entries[0].connection, "(another connection)");
    assert.ok(!JSON.stringify(log.body).includes("demo-copy"));
    const status = await api("/v1/connections/demo-service", { key: LIMITED_KEY });
    assert.deepEqual(status.body.shared_with, []);
    const list = await api("/v1/connections", { key: LIMITED_KEY });
    assert.ok(!JSON.stringify(list.body).includes("demo-copy"));
  });

  it("keeps the gateway's key rules: 401 without a key, 403 for a key not allowed that connection, 404 unknown, 400 for a bad limit, 405 for a POST", async (t) => {
    const { api } = await withDemoGateway(t);
    assert.equal((await api("/v1/connections/demo-service/log", { key: null })).status, 401);
    assert.equal((await api("/v1/connections/demo-service/log", { key: LIMITED_KEY })).status, 200);
    const other = await api("/v1/connections/demo-jwt/log", { key: LIMITED_KEY });
    assert.equal(other.status, 403);
    assert.equal(other.body.error.code, "forbidden");
    assert.equal((await api("/v1/connections/no-such-thing/log", { key: LIMITED_KEY })).status, 403, "a limited key does not learn which names exist");
    const unknown = await api("/v1/connections/no-such-thing/log");
    assert.equal(unknown.status, 404);
    const bad = await api("/v1/connections/demo-service/log?limit=500");
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /limit must be a whole number from 1 to 50/);
    assert.equal((await api("/v1/connections/demo-service/log", { method: "POST" })).status, 405);
  });

  it("is open to a dashboard session (it holds no secret)", async (t) => {
    const { gateway, api } = await withDemoGateway(t);
    await api("/v1/connections/demo-service/token");
    const { cookie } = await signIn(gateway);
    const res = await fetch(`${gateway.url}/v1/connections/demo-service/log`, { headers: { cookie } });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { entries: unknown[] }).entries.length, 1);
  });
});

describe("the dashboard's Recent token requests panel in Chromium", { skip: CHROMIUM_SKIP }, () => {
  it("shows a connection's requests when opened, and the new one after a Refresh", async (t) => {
    const { gateway, api } = await withDemoGateway(t);
    await api("/v1/connections/demo-service/token");
    const { page, cspViolations } = await chromiumPage(t);
    await page.goto(gateway.signInUrl);
    const panel = page.locator('tr[data-name="demo-service"] details.log');
    await panel.locator("summary").click();
    const rows = panel.locator("table.log-table tr.ok");
    await rows.first().waitFor();
    assert.equal(await rows.count(), 1);
    const cells = await rows.first().locator("td").allTextContents();
    assert.match(cells[0]!, /^(just now|\d+s ago)$/);
    assert.deepEqual(cells.slice(1, 3), ["client_credentials", "ok"]);
    assert.match(cells[3]!, /^\d+ ms$/);
    assert.match(cells[5]!, /^\d+@/);
    // Refresh re-renders the list; the panel stays open and shows the new request.
    await page.locator('tr[data-name="demo-service"] button[data-action="refresh"]').click();
    await page.waitForFunction(() => document.querySelectorAll('tr[data-name="demo-service"] details.log[open] table.log-table tr.ok').length === 2);
    // A connection never used has nothing to show.
    const empty = page.locator('tr[data-name="demo-jwt"] details.log');
    await empty.locator("summary").click();
    await empty.getByText("No token requests yet.").waitFor();
    assert.deepEqual(cspViolations, []);
  });
});

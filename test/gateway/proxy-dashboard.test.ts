import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CHROMIUM_SKIP, chromiumPage } from "../support/chromium.js";
import { proxyGateway } from "./proxy-support.js";

/** The dashboard's per-connection proxy block (issue 14 item 3), in Debian's Chromium. */

describe("the dashboard's proxy counts", { skip: CHROMIUM_SKIP }, () => {
  it("shows requests, bytes each way and 401 recoveries per connection, and nothing for one never proxied", async (t) => {
    const { gateway, api, testApi } = await proxyGateway(t);
    assert.equal((await api("/proxy/bulk/small")).status, 200);
    testApi.refused.add(testApi.seen.at(-1)!.authorization!.slice("Bearer ".length));
    assert.equal((await api("/proxy/bulk/echo", { method: "POST", body: "x".repeat(1500) })).status, 200);
    const { page } = await chromiumPage(t);
    await page.goto(gateway.signInUrl);
    const block = page.locator('tr[data-name="bulk"] .proxy');
    await block.waitFor();
    const text = (await block.textContent()) ?? "";
    assert.match(text, /^proxy: 2 requests · ↑ 3\.0 kB · ↓ [\d.]+ kB · 401 recovered 1×$/);
    assert.equal(await page.locator('tr[data-name="demo-user"] .proxy').count(), 0);
  });
});

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { proxyGateway } from "./proxy-support.js";

/** The dashboard's per-connection proxy block (issue 14 item 3), in Debian's Chromium. */

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const UI_TIMEOUT_MS = 15_000;
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium): the browser test cannot run`;

describe("the dashboard's proxy counts", { skip }, () => {
  it("shows requests, bytes each way and 401 recoveries per connection, and nothing for one never proxied", async (t) => {
    const { gateway, api, testApi } = await proxyGateway(t);
    assert.equal((await api("/proxy/bulk/small")).status, 200);
    testApi.refused.add(testApi.seen.at(-1)!.authorization!.slice("Bearer ".length));
    assert.equal((await api("/proxy/bulk/echo", { method: "POST", body: "x".repeat(1500) })).status, 200);
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    t.after(() => browser.close());
    const page = await browser.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    await page.goto(gateway.signInUrl);
    const block = page.locator('tr[data-name="bulk"] .proxy');
    await block.waitFor();
    const text = (await block.textContent()) ?? "";
    assert.match(text, /^proxy: 2 requests · ↑ 3\.0 kB · ↓ [\d.]+ kB · 401 recovered 1×$/);
    assert.equal(await page.locator('tr[data-name="demo-user"] .proxy').count(), 0);
  });
});

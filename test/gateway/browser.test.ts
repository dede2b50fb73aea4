import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { CHROMIUM_SKIP, chromiumPage } from "../support/chromium.js";
import { withDemoGateway } from "./support.js";

/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core. Skipped (with
 * a message saying why) only where that Chromium is not installed.
 */

describe("the dashboard in Chromium", { skip: CHROMIUM_SKIP }, () => {
  it("signs in, shows the connections, refreshes, authorizes, and refuses a POST without the CSRF token", async (t) => {
    const { gateway, api } = await withDemoGateway(t, { demo: { autoLogin: true } });
    await api("/v1/connections/demo-service/token");
    const { page, cspViolations } = await chromiumPage(t);
    page.on("dialog", (dialog) => void dialog.accept());

    // Sign in with the one-time URL: it lands on the dashboard with the session cookie.
    await page.goto(gateway.signInUrl);
    assert.equal(new URL(page.url()).pathname, "/");
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name.startsWith("tokensmith_session_"));
    assert.ok(session?.httpOnly);
    assert.equal(session?.sameSite, "Strict");

    const row = (name: string) => page.locator(`tr[data-name="${name}"]`);
    await row("demo-service").waitFor();
    assert.deepEqual(await page.locator("tbody tr").evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.name)), [
      "demo-service",
      "demo-user",
      "demo-password",
      "demo-jwt",
    ]);
    // Health, not raw token state (issue 13 item 1): durations as the CLI writes them, and the facts.
    assert.equal(await row("demo-service").locator(".badge").textContent(), "ready");
    await page.waitForFunction(() => /^expires in \d+m( \d+s)?$/.test(document.querySelector('tr[data-name="demo-service"] .expires')?.textContent ?? ""));
    const facts = (await row("demo-service").locator("td").first().textContent()) ?? "";
    assert.match(facts, /refresh token: no/);
    assert.match(facts, /client auth: /);
    assert.match(facts, /token valid, expires in \d+m/);

    // Refresh: the token request count goes from 1 to 2.
    assert.equal(await row("demo-service").locator(".requests").textContent(), "1");
    await row("demo-service").locator('button[data-action="refresh"]').click();
    await page.waitForFunction(() => document.querySelector('tr[data-name="demo-service"] .requests')?.textContent === "2");
    assert.match((await page.locator("#result h2").textContent()) ?? "", /refreshed demo-service/);

    // Test shows the diagnosis steps.
    await row("demo-service").locator('button[data-action="test"]').click();
    await page.locator("#result h2", { hasText: "test demo-service" }).waitFor();
    const shots = await mkdtemp(join(tmpdir(), "tokensmith-dashboard-"));
    await page.screenshot({ path: join(shots, "after-test.png"), fullPage: true });

    // CSRF: the same POST from the page without the token is refused, with it accepted.
    const statuses = await page.evaluate(async () => {
      const without = await fetch("/v1/connections/demo-service/refresh", { method: "POST" });
      const token = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')!.content;
      const withToken = await fetch("/v1/connections/demo-service/refresh", { method: "POST", headers: { "x-csrf-token": token } });
      return [without.status, withToken.status];
    });
    assert.deepEqual(statuses, [403, 200]);

    // A user grant with no login yet needs one: Test asks again and shows every step, the cause
    // and the fix naming the dashboard's own button (issue 13 item 2).
    assert.equal(await row("demo-user").locator(".badge").textContent(), "login_required");
    await row("demo-user").locator('button[data-action="test"]').click();
    await page.locator("#result h2", { hasText: "test demo-user: failed" }).waitFor();
    const diagnosis = (await page.locator("#result ul").textContent()) ?? "";
    assert.match(diagnosis, /ok: settings: grant authorization_code/);
    assert.match(diagnosis, /failed: token: /);
    assert.match(diagnosis, /likely cause: no login has been made yet/);
    assert.match(diagnosis, /fix: press Authorize/);
    assert.doesNotMatch(await page.locator("#result h2").textContent() ?? "", /HTTP 200/);

    // Authorize demo-user in the browser: through the demo server and back to /callback.
    await row("demo-user").locator('button[data-action="authorize"]').click();
    await page.waitForURL(/\/callback\?/);
    assert.match((await page.locator("main").textContent()) ?? "", /demo-user is authorized/);
    await page.getByRole("link", { name: "Back to the dashboard" }).click();
    await page.waitForFunction(() => document.querySelector('tr[data-name="demo-user"] .badge')?.textContent === "ready");
    assert.equal(await page.locator("#notice").textContent(), "Authorized demo-user.");

    await page.screenshot({ path: join(shots, "dashboard.png"), fullPage: true });
    t.diagnostic(`dashboard screenshots in ${shots}`);
    assert.deepEqual(cspViolations, [], "the page runs within its Content-Security-Policy");
  });
});

import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import type { Browser, Page } from "playwright-core";
import { parse, stringify } from "yaml";
import { demoConfig } from "../../src/demo/config.js";
import { launchChromium, UI_TIMEOUT_MS, CHROMIUM_SKIP } from "../support/chromium.js";
import { tmpDir, withDemoServer } from "../support/demo.js";
import { startServe } from "./serve-process.js";
import { withDemoGateway } from "./support.js";

/**
 * The dashboard grown up (issue 13 item 8), in Chromium: Reload and SIGHUP re-read the config
 * under a live session, a used sign-in URL opened again lands on the dashboard, Revoke shows
 * only where there is a revocation endpoint, and the page works 420 px wide.
 */

/** A phone held upright: the width the dashboard must fit without scrolling sideways. */
const NARROW_PX = 420;

async function newPage(t: TestContext, browser?: Browser): Promise<Page> {
  const chromium = browser ?? (await launchChromium());
  if (!browser) t.after(() => chromium.close());
  const page = await chromium.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  page.on("dialog", (dialog) => void dialog.accept());
  return page;
}

/** The names of the dashboard's rows, in order. */
function rowNames(page: Page): Promise<(string | undefined)[]> {
  return page.locator("tbody tr").evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.name));
}

describe("the dashboard in Chromium, grown up", { skip: CHROMIUM_SKIP }, () => {
  it("reloads the config from its Reload button and on SIGHUP without ending the session, and keeps the old config when the new one is broken", async (t) => {
    const server = await withDemoServer(t);
    const dir = await tmpDir(t);
    const path = join(dir, "tokensmith.yaml");
    const config: any = demoConfig(server, { dir: join(dir, "store") });
    await writeFile(path, stringify(config), { mode: 0o600 });
    const serve = await startServe(t, dir, ["--config", path]);
    const signInUrl = /sign-in \(one-time URL\): (\S+)/.exec(serve.stderr())![1];
    const page = await newPage(t);

    await page.goto(signInUrl);
    await page.locator('tr[data-name="demo-jwt"]').waitFor();
    const cookie = async () => (await page.context().cookies()).find((c) => c.name.startsWith("tokensmith_session_"))?.value;
    const session = await cookie();
    assert.ok(session);

    // A used sign-in URL, opened again by the browser that spent it, lands on the dashboard.
    await page.goto(signInUrl);
    assert.equal(new URL(page.url()).pathname, "/");
    await page.locator('tr[data-name="demo-jwt"]').waitFor();

    // Reload: a connection added to the YAML appears, the session is the same.
    config.connections["demo-extra"] = { ...config.connections["demo-service"] };
    await writeFile(path, stringify(config));
    await page.locator("#reload").click();
    await page.locator("#notice", { hasText: "Config reloaded: added demo-extra." }).waitFor();
    await page.locator('tr[data-name="demo-extra"]').waitFor();
    assert.equal(await cookie(), session);

    // SIGHUP: the same, seen on the next load of the page, still signed in.
    config.connections["demo-sighup"] = { ...config.connections["demo-service"] };
    await writeFile(path, stringify(config));
    serve.child.kill("SIGHUP");
    await serve.waitFor(/config reloaded: added demo-sighup\n/);
    await page.reload();
    await page.locator('tr[data-name="demo-sighup"]').waitFor();
    assert.deepEqual(await rowNames(page), ["demo-service", "demo-user", "demo-password", "demo-jwt", "demo-extra", "demo-sighup"]);
    assert.equal(await cookie(), session);

    // A broken config: the dashboard says so, the rows stay, stderr has it too.
    const broken = parse(await readFile(path, "utf8"));
    broken.connections["demo-extra"].grant = "nonsense";
    delete broken.connections["demo-sighup"];
    await writeFile(path, stringify(broken));
    await page.locator("#reload").click();
    const notice = page.locator("#notice.bad", { hasText: "Reload failed" });
    await notice.waitFor();
    assert.match((await notice.textContent()) ?? "", /goes on with the config it had: .*demo-extra/);
    await serve.waitFor(/config reload failed: .*demo-extra.*still serving the previous config\n/);
    assert.equal((await rowNames(page)).length, 6);
    assert.equal(serve.stderr().match(/sign-in \(one-time URL\)/g)?.length, 1, "no reload prints a new sign-in URL");
    serve.child.kill("SIGTERM");
    assert.equal(await serve.exited, 0);
  });

  it("shows Revoke only where there is a revocation endpoint, and fits 420 px with every button in reach", async (t) => {
    const { gateway, api } = await withDemoGateway(t, {
      patch: (config) => delete config.connections["demo-password"].revocation_url,
    });
    await api("/v1/connections/demo-service/token");
    const page = await newPage(t);
    await page.goto(gateway.signInUrl);
    const revoke = (name: string) => page.locator(`tr[data-name="${name}"] button[data-action="revoke"]`);
    await page.locator('tr[data-name="demo-password"] button[data-action="test"]').waitFor();
    assert.equal(await revoke("demo-password").count(), 0, "no revocation endpoint, no Revoke");
    assert.equal(await revoke("demo-service").count(), 1);
    assert.equal(await revoke("demo-jwt").count(), 1);

    await page.setViewportSize({ width: NARROW_PX, height: 800 });
    assert.ok((await page.evaluate(() => document.scrollingElement!.scrollWidth)) <= NARROW_PX, "no sideways scrolling");
    // Every button lies inside the page's width, and works from there.
    const outside = await page.locator("button").evaluateAll((buttons, width) => buttons.filter((b) => {
      const box = b.getBoundingClientRect();
      return box.left < 0 || box.right > width;
    }).map((b) => b.textContent), NARROW_PX);
    assert.deepEqual(outside, []);
    assert.equal(await page.locator('tr[data-name="demo-service"] .requests').textContent(), "1");
    await page.locator('tr[data-name="demo-service"] button[data-action="refresh"]').click();
    await page.waitForFunction(() => document.querySelector('tr[data-name="demo-service"] .requests')?.textContent === "2");
    await page.locator("#reload").click();
    await page.locator("#notice", { hasText: "Config reloaded: nothing changed." }).waitFor();
    assert.ok((await page.evaluate(() => document.scrollingElement!.scrollWidth)) <= NARROW_PX, "nor after the notices and results");
  });
});

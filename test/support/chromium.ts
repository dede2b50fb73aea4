import { existsSync } from "node:fs";
import type { TestContext } from "node:test";
import type { Browser, Page } from "playwright-core";

/**
 * Debian's Chromium driven by playwright-core, for the dashboard's browser tests and the
 * screenshot script (scripts/screenshots.ts). `CHROMIUM_SKIP` is the reason to skip them (only
 * where that Chromium is not installed), or false.
 */

export const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
/** Generous for a shared 2-core machine; the page itself answers in milliseconds. */
export const UI_TIMEOUT_MS = 15_000;

export const CHROMIUM_SKIP: string | false = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium): the browser test cannot run`;

/** A headless Chromium (with more command-line `args`); the caller closes it. */
export async function launchChromium(args: string[] = []): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...args], headless: true });
}

/** A new page in a headless Chromium closed after the test; `cspViolations` collects what the page's Content-Security-Policy blocked. */
export async function chromiumPage(t: TestContext): Promise<{ page: Page; cspViolations: string[] }> {
  const browser = await launchChromium();
  t.after(() => browser.close());
  const page = await browser.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  const cspViolations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  return { page, cspViolations };
}

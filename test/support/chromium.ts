import { existsSync } from "node:fs";
import type { Browser } from "playwright-core";

/**
 * Debian's Chromium driven by playwright-core, for the dashboard's browser tests and the
 * screenshot script (scripts/screenshots.ts). Tests skip, saying why, where it is not installed.
 */

export const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
/** Generous for a shared 2-core machine; the page itself answers in milliseconds. */
export const UI_TIMEOUT_MS = 15_000;

/** `skip` for a test that needs the browser: false, or why it cannot run. */
export const withoutChromium: string | false = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium): the browser test cannot run`;

/** A headless Chromium (with more command-line `args`); the caller closes it. */
export async function launchChromium(args: string[] = []): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...args], headless: true });
}

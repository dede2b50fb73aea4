#!/usr/bin/env -S npx tsx
// `npm run screenshots`: the dashboard's pictures in docs/screenshots/, regenerated after a
// change to the dashboard. It starts demo authorization servers, writes a config with one
// connection per health state (src/lifecycle/health.ts), brings each into its state through
// the library and the dashboard itself, serves, signs in with Chromium and captures the page
// at 1280 and 420 px wide, and each connection's row. Needs /usr/bin/chromium.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Page } from "playwright-core";
import { stringify } from "yaml";
import { demoConfig } from "../src/demo/config.js";
import { startDemoServer, type DemoServer } from "../src/demo/server.js";
import { startGateway } from "../src/gateway/start.js";
import type { HealthName } from "../src/lifecycle/health.js";
import { TokenSmith } from "../src/tokensmith.js";
import { launchChromium, UI_TIMEOUT_MS } from "../test/support/chromium.js";
import { toPalettePng } from "./png-palette.js";

const OUT = resolve(import.meta.dirname, "..", "docs", "screenshots");
const WIDTHS = [1280, 420] as const;

/** The connection shown in each health state, in the order the docs list them. */
export const STATE_CONNECTIONS: Record<HealthName, string> = {
  ready: "billing-api",
  expiring: "crm-user",
  login_required: "calendar-user",
  failing: "payments-api",
  unreadable: "reports-api",
  removed: "legacy-api",
  none: "search-api",
};

/**
 * The expiring connection's server issues one-minute tokens and no refresh token: past the
 * refresh margin (half the lifetime at most) it is `expiring` for half a minute, time enough to
 * capture it; its other tokens live an hour.
 */
const SHORT_TOKEN_TTL_S = 60;
const EXPIRING_MARGIN = "30s";
/** When the margin has begun: lifetime − 1 s resolution − 10% skew − margin, plus a second. */
const EXPIRING_AFTER_MS = (SHORT_TOKEN_TTL_S - 1 - SHORT_TOKEN_TTL_S * 0.1 - 30 + 1) * 1000;

function connections(main: DemoServer, short: DemoServer, store: string): Record<string, unknown> {
  const base = demoConfig(main, { dir: store }).connections as Record<string, Record<string, unknown>>;
  const shortUser = (demoConfig(short, { dir: store }).connections as Record<string, Record<string, unknown>>)["demo-user"];
  return {
    [STATE_CONNECTIONS.ready]: base["demo-service"],
    [STATE_CONNECTIONS.expiring]: { ...shortUser, refresh_margin: EXPIRING_MARGIN },
    [STATE_CONNECTIONS.login_required]: base["demo-user"],
    [STATE_CONNECTIONS.failing]: { ...base["demo-service"], client_id: "payments-client-unknown-to-the-server" },
    [STATE_CONNECTIONS.unreadable]: base["demo-jwt"],
    [STATE_CONNECTIONS.removed]: base["demo-password"],
    [STATE_CONNECTIONS.none]: { ...base["demo-service"], scopes: [] },
  };
}

/** The library brings the connections that need no person into their states. */
async function prepare(configPath: string, config: Record<string, any>): Promise<void> {
  const ts = await TokenSmith.load({ config: configPath, env: {} });
  try {
    await ts.connection(STATE_CONNECTIONS.ready).accessToken();
    await ts.connection(STATE_CONNECTIONS.failing).accessToken().then(
      () => Promise.reject(new Error("the failing connection got a token")),
      () => undefined,
    );
    await ts.connection(STATE_CONNECTIONS.removed).accessToken();
    await ts.connection(STATE_CONNECTIONS.removed).revoke();
  } finally {
    await ts.close();
  }
  // Written under a store key the served config does not have: unreadable to it.
  const otherKey = { ...config, store: { ...config.store, key: randomBytes(32).toString("base64") } };
  const other = await TokenSmith.load({ config: otherKey, env: {} });
  try {
    await other.connection(STATE_CONNECTIONS.unreadable).accessToken();
  } finally {
    await other.close();
  }
}

/** The whole page at `width`; at the wide width also each state's row (the narrow page shows each card whole). */
async function capture(page: Page, width: number): Promise<string[]> {
  await page.setViewportSize({ width, height: 800 });
  const whole = join(OUT, `dashboard-${width}.png`);
  await page.screenshot({ path: whole, fullPage: true });
  if (width !== WIDTHS[0]) return [whole];
  const rows = Object.entries(STATE_CONNECTIONS).map(([state, name]) => ({ name, path: join(OUT, `state-${state}.png`) }));
  for (const { name, path } of rows) await page.locator(`tr[data-name="${name}"]`).screenshot({ path });
  return [whole, ...rows.map((row) => row.path)];
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "tokensmith-screenshots-"));
  const main = await startDemoServer({ autoLogin: true, quiet: true });
  const short = await startDemoServer({ autoLogin: true, quiet: true, accessTokenTtl: SHORT_TOKEN_TTL_S, issueRefreshTokens: false });
  // Greyscale text: no coloured subpixel fringes, which would double the PNGs' size.
  const browser = await launchChromium(["--disable-lcd-text"]);
  try {
    const configPath = join(work, "tokensmith.yaml");
    const config = { store: { type: "file", dir: join(work, "store") }, gateway: { port: 0 }, connections: connections(main, short, join(work, "store")) };
    await writeFile(configPath, stringify(config), { mode: 0o600 });
    await prepare(configPath, config);
    const gateway = await startGateway({ config: configPath, env: {} });
    try {
      const page = await browser.newPage({ colorScheme: "light", deviceScaleFactor: 1 });
      page.setDefaultTimeout(UI_TIMEOUT_MS);
      await page.goto(gateway.signInUrl);
      // The expiring connection's login, through the dashboard's own Authorize button.
      await page.locator(`tr[data-name="${STATE_CONNECTIONS.expiring}"] button[data-action="authorize"]`).click();
      await page.waitForURL(/\/callback\?/);
      const loggedInAt = Date.now();
      await page.waitForTimeout(Math.max(0, loggedInAt + EXPIRING_AFTER_MS - Date.now()));
      await page.goto(`${gateway.url}/`);
      await page.locator(`tr[data-name="${STATE_CONNECTIONS.none}"]`).waitFor();
      const shown = await page.locator("tbody tr").evaluateAll((rows) => rows.map((r) => [(r as HTMLElement).dataset.name, r.querySelector(".badge")?.textContent, r.querySelector("td")?.textContent]));
      const wrong = Object.entries(STATE_CONNECTIONS).filter(([state, name]) => !shown.some(([n, s]) => n === name && s === state));
      if (wrong.length) throw new Error(`not every connection is in its state: ${JSON.stringify(shown)}`);
      await mkdir(OUT, { recursive: true });
      const written: string[] = [];
      for (const width of WIDTHS) written.push(...(await capture(page, width)));
      // Small files for the repository: a palette of 256 colours (scripts/png-palette.ts).
      for (const path of written) await toPalettePng(path);
      console.log(`screenshots written to ${OUT}`);
    } finally {
      await gateway.close();
    }
  } finally {
    await browser.close();
    await Promise.all([main.close(), short.close()]);
    await rm(work, { recursive: true, force: true });
  }
}

await main();

import { execFile } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { hashSecret } from "../redact.js";
import { TokenSmith } from "../tokensmith.js";
import { writeDemoConfig } from "./config.js";
import { startDemoServer, type DemoServer } from "./server.js";

/** Short enough that the tour shows a real refresh, long enough to read the steps. */
const TOUR_TOKEN_TTL_S = 4;
/** `--serve`: the server kept after the tour issues tokens that live long enough to watch. */
export const SERVE_TOKEN_TTL_S = 60;
/** How many cached calls the "reuse" step makes. */
const REUSE_CALLS = 1000;

/** Where the tour writes: the CLI's printer is one (the demo knows nothing of the CLI). */
export interface TourPrinter {
  data(text: string): void;
  warn(text: string): void;
}

export interface TourOptions {
  dir: string;
  serve: boolean;
  /** With `serve`: the port of the kept server (default: any free port). */
  port?: number;
  printer: TourPrinter;
}

/** A token shown as a short fingerprint: the tour proves reuse without printing a secret. */
const tokenId = (token: string) => `#${hashSecret(token).slice(0, 8)}`;

/**
 * `tokensmith demo`: start the bundled authorization server, write a config for it, and walk
 * through what tokensmith does — get, use, reuse, share across processes, refresh — printing
 * what the server saw at each step.
 */
export async function runTour({ dir, serve, port, printer }: TourOptions): Promise<number> {
  const say = (text = "") => printer.data(text);
  const root = resolve(dir);
  await mkdir(root, { recursive: true, mode: 0o700 });
  const configPath = join(root, "tokensmith.yaml");
  const server = await startDemoServer({ accessTokenTtl: TOUR_TOKEN_TTL_S, quiet: true, autoLogin: true });
  await writeDemoConfig(server, configPath, { dir: join(root, "state") });
  const ts = await TokenSmith.load({ config: configPath, onWarning: (m) => printer.warn(m) });
  try {
    say(`tokensmith demo: a local OAuth 2.0 authorization server (oidc-provider) is running at ${server.issuer}`);
    say(`  access tokens live ${TOUR_TOKEN_TTL_S} s and refresh tokens rotate on every use, with reuse detection.`);
    say(`  config written to ${relative(process.cwd(), configPath) || configPath} (token store: ${join(relative(process.cwd(), root) || ".", "state")})`);
    say();
    await step1(ts, server, say);
    await step2(ts, server, say);
    await step3(ts, server, say);
    await step4(configPath, server, say);
    await step5(ts, server, say);
    say("6. Status (never shows a secret):");
    for (const name of ["demo-service", "demo-password"]) {
      const s = await ts.connection(name).status();
      say(`   ${name}: ${s.health.status}, ${s.tokenRequests} token request(s), refresh token: ${s.hasRefreshToken ? "yes" : "no"}`);
    }
    say();
    if (!serve) {
      say("Done. To keep a server running and try the CLI yourself: tokensmith demo --serve [--port N], then:");
      tryIt(say, configPath, server);
    }
  } finally {
    await ts.close();
    await server.close();
  }
  if (serve) await keepServing(say, configPath, root, port);
  return 0;
}

/** The commands to try against the demo server. */
function tryIt(say: Say, configPath: string, server: DemoServer): void {
  const cfg = `--config ${relative(process.cwd(), configPath) || configPath}`;
  say(`   tokensmith token demo-service ${cfg}`);
  say(`   tokensmith status ${cfg}`);
  say(`   tokensmith test demo-password ${cfg}`);
  say(`   curl -H "$(tokensmith header demo-service ${cfg})" ${server.apiUrl}/whoami`);
}

/**
 * `--serve`: a new demo server on `port` whose tokens live 60 s (the tour's 4-second ones
 * expire before a person can look), the config rewritten for it; until Ctrl-C.
 */
async function keepServing(say: Say, configPath: string, root: string, port: number | undefined): Promise<void> {
  const server = await startDemoServer({ port, accessTokenTtl: SERVE_TOKEN_TTL_S, quiet: true, autoLogin: true });
  try {
    await writeDemoConfig(server, configPath, { dir: join(root, "state") });
    say(`The demo server keeps running at ${server.issuer}, issuing access tokens that live ${SERVE_TOKEN_TTL_S} s (Ctrl-C to stop). Try, in another terminal:`);
    tryIt(say, configPath, server);
    await new Promise<void>((stop) => process.once("SIGINT", () => stop()));
  } finally {
    await server.close();
  }
}

type Say = (text?: string) => void;

async function step1(ts: TokenSmith, server: DemoServer, say: Say) {
  say("1. Get a token (client_credentials, client_secret_basic):");
  const info = await ts.connection("demo-service").token();
  const seconds = info.expiresAt ? Math.round((info.expiresAt.getTime() - Date.now()) / 1000) : null;
  say(`   got token ${tokenId(info.accessToken)} (${info.tokenType}, expires in ${seconds} s, scope "${info.scope}")`);
  say(`   token requests the server has seen: ${server.stats.tokenRequests}`);
  say();
}

async function step2(ts: TokenSmith, server: DemoServer, say: Say) {
  say("2. Call the protected API with it (connection.fetch injects the token):");
  const res = await ts.connection("demo-service").fetch(`${server.apiUrl}/whoami`);
  const body = (await res.json()) as Record<string, unknown>;
  say(`   GET ${server.apiUrl}/whoami -> ${res.status} ${JSON.stringify(body)}`);
  say();
}

async function step3(ts: TokenSmith, server: DemoServer, say: Say) {
  say(`3. Reuse: ${REUSE_CALLS} more accessToken() calls, from the cache:`);
  const before = server.stats.tokenRequests;
  const started = performance.now();
  const tokens = new Set(await Promise.all(Array.from({ length: REUSE_CALLS }, () => ts.connection("demo-service").accessToken())));
  const ms = (performance.now() - started).toFixed(1);
  say(`   ${REUSE_CALLS} calls in ${ms} ms, ${tokens.size} distinct token, ${server.stats.tokenRequests - before} new token requests`);
  say();
}

async function step4(configPath: string, server: DemoServer, say: Say) {
  say("4. Another process (`tokensmith token demo-service`) reads the same encrypted file store:");
  const before = server.stats.tokenRequests;
  const bin = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "tokensmith.js");
  const { stdout } = await promisify(execFile)(process.execPath, [bin, "token", "demo-service", "--config", configPath]);
  say(`   the other process got token ${tokenId(stdout.trim())}, with ${server.stats.tokenRequests - before} new token requests`);
  say();
}

async function step5(ts: TokenSmith, server: DemoServer, say: Say) {
  say("5. Refresh: the password grant gives a refresh token; watch a token expire and get refreshed:");
  const user = ts.connection("demo-password");
  const first = await user.token();
  say(`   token ${tokenId(first.accessToken)} from the password grant`);
  const wait = Math.max(0, first.expiresAt!.getTime() - Date.now());
  say(`   waiting ${(wait / 1000).toFixed(1)} s for it to expire...`);
  await new Promise((r) => setTimeout(r, wait));
  const before = server.stats.byGrant.refresh_token ?? 0;
  const second = await user.token();
  const refreshes = (server.stats.byGrant.refresh_token ?? 0) - before;
  say(`   token ${tokenId(second.accessToken)} after ${refreshes} refresh_token request; the rotated refresh token was stored before it was handed out`);
  say(`   refresh-token reuse detected by the server: ${server.stats.refreshReuseDetected}`);
  say();
}

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { stringify } from "yaml";
import type { Clock } from "../../src/clock.js";
import { demoConfig } from "../../src/demo/config.js";
import type { DemoServer, DemoServerOptions } from "../../src/demo/server.js";
import { startGateway, type Gateway, type GatewayOptions } from "../../src/gateway/start.js";
import { tmpDir, withDemoServer } from "../support/demo.js";

/**
 * A gateway on a demo authorization server, for one test: its own temp folder holding the
 * config file and the file store, closed and removed when the test ends.
 */

/** A full-access key and one limited to demo-service (both at least 16 characters). */
export const FULL_KEY = "full-access-key-0123456789abcdef";
export const LIMITED_KEY = "limited-key-0123456789abcdef";

export interface DemoGateway {
  server: DemoServer;
  gateway: Gateway;
  dir: string;
  configPath: string;
  /** fetch against the gateway with the full key, another `key`, or none (`key: null`). */
  api(path: string, init?: RequestInit & { key?: string | null }): Promise<{ status: number; body: any; headers: Headers }>;
}

export interface DemoGatewayOptions {
  demo?: DemoServerOptions;
  /** Change the config before the gateway starts. */
  patch?: (config: any) => void;
  /** Configure the two keys above (default true); false: the gateway generates one. */
  keys?: boolean;
  /** The gateway's clock (default the system's). */
  clock?: Clock;
  /** Told of every config reload. */
  onReload?: GatewayOptions["onReload"];
}

export async function withDemoGateway(t: TestContext, options: DemoGatewayOptions = {}): Promise<DemoGateway> {
  const server = await withDemoServer(t, options.demo);
  const dir = await tmpDir(t);
  const config: any = demoConfig(server, { dir: join(dir, "store") });
  config.gateway = { port: 0 };
  if (options.keys !== false) config.gateway.api_keys = [{ key: FULL_KEY }, { key: LIMITED_KEY, connections: ["demo-service"] }];
  options.patch?.(config);
  const configPath = join(dir, "tokensmith.yaml");
  await writeFile(configPath, stringify(config), { mode: 0o600 });
  const gateway = await startGateway({ config: configPath, env: {}, clock: options.clock, onReload: options.onReload });
  t.after(() => gateway.close());
  const api = async (path: string, { key, ...init }: RequestInit & { key?: string | null } = {}) => {
    const headers = new Headers(init.headers);
    const chosen = key === undefined ? (options.keys === false ? null : FULL_KEY) : key;
    if (chosen !== null) headers.set("authorization", `Bearer ${chosen}`);
    const res = await fetch(`${gateway.url}${path}`, { ...init, headers, redirect: "manual" });
    const text = await res.text();
    let body: any = text;
    if ((res.headers.get("content-type") ?? "").startsWith("application/json")) body = JSON.parse(text);
    return { status: res.status, body, headers: res.headers };
  };
  return { server, gateway, dir, configPath, api };
}

/** Signs in with a one-time URL: the session cookie ("name=value") and the dashboard's CSRF token. */
export async function signIn(gateway: Gateway): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(gateway.newSignInUrl(), { redirect: "manual" });
  const setCookie = res.headers.get("set-cookie");
  if (res.status !== 303 || !setCookie) throw new Error(`sign-in failed: ${res.status}`);
  const cookie = setCookie.split(";")[0];
  const page = await (await fetch(`${gateway.url}/`, { headers: { cookie } })).text();
  const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(page)?.[1];
  if (!csrf) throw new Error("no CSRF token on the dashboard");
  return { cookie, csrf };
}

import { demoConfig } from "../../src/demo/config.js";
import type { DemoServer } from "../../src/demo/server.js";

/**
 * The demo server's config (file store in `storeDir`) plus `demo-confidential`: the
 * authorization code flow with the client_secret_basic client. Shared by the library and
 * the CLI login tests.
 */
export function demoLoginConfig(server: DemoServer, storeDir: string): any {
  const config: any = demoConfig(server, { dir: storeDir });
  config.connections["demo-confidential"] = {
    ...config.connections["demo-user"],
    client_id: server.clients.basic.clientId,
    client_secret: server.clients.basic.clientSecret,
    client_auth: "basic",
    scopes: ["openid", "api:read"],
  };
  return config;
}

import { chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { stringify } from "yaml";
import type { DemoServer } from "./server.js";

/**
 * A tokensmith config (SPEC §1 field names) for a running demo server: one connection per
 * kind of login the demo shows. Endpoints are spelled out (no discovery round trip needed)
 * and `issuer` is set too, so `iss` in authorization responses (RFC 9207) is checked.
 * Secrets are written inline: they live as long as the demo server, which makes new ones at
 * every start.
 */

/** The private key file writeDemoConfig puts beside the config. */
export const DEMO_KEY_FILE = "demo-client-key.pem";
/** Owner-only: the config holds client secrets and the key file a private key. */
const SECRET_FILE_MODE = 0o600;
const PRIVATE_DIR_MODE = 0o700;

/** Where the demo config keeps state, and how it refers to the private key. */
export interface DemoConfigOptions {
  /** The file store's folder. */
  dir: string;
  /** What to write as `private_key` for demo-jwt, e.g. `${file:demo-client-key.pem}`; default the PEM inline. */
  privateKey?: string;
}

/** The config object, usable as `TokenSmith.load({ config })` or written out as YAML. */
export function demoConfig(server: DemoServer, { dir, privateKey }: DemoConfigOptions): Record<string, unknown> {
  const { clients, endpoints } = server;
  const common = {
    issuer: server.issuer,
    token_url: endpoints.token,
    revocation_url: endpoints.revocation,
    introspection_url: endpoints.introspection,
    test_url: `${server.apiUrl}/whoami`,
  };
  return {
    store: { type: "file", dir },
    connections: {
      "demo-service": {
        ...common,
        grant: "client_credentials",
        client_id: clients.basic.clientId,
        client_secret: clients.basic.clientSecret,
        client_auth: "basic",
        scopes: ["api:read"],
      },
      "demo-user": {
        ...common,
        grant: "authorization_code",
        authorization_url: endpoints.authorization,
        device_authorization_url: endpoints.deviceAuthorization,
        userinfo_url: endpoints.userinfo,
        client_id: clients.public.clientId,
        client_auth: "none",
        pkce: "S256",
        scopes: ["openid", "offline_access"],
      },
      "demo-password": {
        ...common,
        grant: "password",
        client_id: clients.basic.clientId,
        client_secret: clients.basic.clientSecret,
        client_auth: "basic",
        username: server.users.username,
        password: server.users.password,
        scopes: ["api:read"],
      },
      "demo-jwt": {
        ...common,
        grant: "client_credentials",
        client_id: clients.privateKeyJwt.clientId,
        client_auth: "private_key_jwt",
        private_key: privateKey ?? clients.privateKeyJwt.privateKeyPem,
        assertion: { alg: clients.privateKeyJwt.alg, kid: clients.privateKeyJwt.kid },
        scopes: ["api:read"],
      },
    },
  };
}

/**
 * Writes the demo config as YAML at `path` (0600), with the demo-jwt private key in
 * `demo-client-key.pem` beside it (0600) and referenced as `${file:...}`. The file store goes
 * to `options.dir`, by default a `state` folder beside the config.
 */
export async function writeDemoConfig(server: DemoServer, path: string, options: { dir?: string } = {}): Promise<void> {
  const folder = dirname(path);
  await mkdir(folder, { recursive: true, mode: PRIVATE_DIR_MODE });
  const keyPath = join(folder, DEMO_KEY_FILE);
  await writeFile(keyPath, server.clients.privateKeyJwt.privateKeyPem, { mode: SECRET_FILE_MODE });
  await chmod(keyPath, SECRET_FILE_MODE);
  const config = demoConfig(server, { dir: options.dir ?? join(folder, "state"), privateKey: `\${file:${DEMO_KEY_FILE}}` });
  const header = `# tokensmith demo config for ${server.issuer}: its secrets are valid while that demo server runs.\n`;
  await writeFile(path, header + stringify(config), { mode: SECRET_FILE_MODE });
  await chmod(path, SECRET_FILE_MODE);
}

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { demoConfig } from "../../src/demo/config.js";
import type { DemoServer } from "../../src/demo/server.js";
import { minimumTokenRequests } from "../../src/lifecycle/timing.js";
import { TokenSmith } from "../../src/tokensmith.js";
import { cliProcess } from "../support/cli.js";
import { callApi, isActiveAtServer, tmpDir, withDemoServer } from "../support/demo.js";

/** A TokenSmith on the demo server's config, with a file store in a temp folder. */
async function load(server: DemoServer, dir: string, patch: (config: any) => void = () => {}) {
  const config: any = demoConfig(server, { dir: join(dir, "store") });
  patch(config);
  const ts = await TokenSmith.load({ config, env: {} });
  return ts;
}

describe("the library against the demo authorization server", () => {
  for (const [name, auth] of [
    ["demo-service", "basic"],
    ["demo-jwt", "private_key_jwt"],
    ["demo-post", "post"],
  ] as const) {
    it(`gets a client_credentials token with ${auth} client authentication that the API accepts, once`, async (t) => {
      const server = await withDemoServer(t);
      const ts = await load(server, await tmpDir(t), (config) => {
        config.connections["demo-post"] = {
          ...config.connections["demo-service"],
          client_id: server.clients.post.clientId,
          client_secret: server.clients.post.clientSecret,
          client_auth: "post",
        };
      });
      t.after(() => ts.close());
      const token = await ts.connection(name).accessToken();
      assert.equal((await callApi(server, "/whoami", token)).status, 200);
      assert.equal(await ts.connection(name).accessToken(), token);
      assert.equal(server.stats.tokenRequests, 1);
    });
  }

  it("makes exactly one token request for 200 concurrent callers on an empty cache", async (t) => {
    const server = await withDemoServer(t);
    const ts = await load(server, await tmpDir(t));
    t.after(() => ts.close());
    const tokens = await Promise.all(Array.from({ length: 200 }, () => ts.connection("demo-service").accessToken()));
    assert.equal(new Set(tokens).size, 1);
    assert.equal(server.stats.tokenRequests, 1);
  });

  it("stays at the minimum number of token requests over 10 s of 2-second tokens and hands out no token the server itself considers expired", async (t) => {
    const server = await withDemoServer(t, { accessTokenTtl: 2 });
    const ts = await load(server, await tmpDir(t));
    t.after(() => ts.close());
    const billing = ts.connection("demo-service");
    const started = Date.now();
    let expiredHandedOut = 0;
    let refusedByServer = 0;
    let calls = 0;
    let checks = 0;
    while (Date.now() - started < 10_000) {
      // Checked as each caller receives its token: handing out an expired one is the failure.
      // Every 50th is judged by oidc-provider itself (whole-second exp, floored iat, SPEC §2.10).
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          const info = await billing.token();
          if (info.expiresAt!.getTime() <= Date.now()) expiredHandedOut++;
          if (++calls % 50 === 0) {
            checks++;
            if (!(await isActiveAtServer(server, info.accessToken))) refusedByServer++;
          }
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const minimum = minimumTokenRequests(10_000, 2_000);
    t.diagnostic(`${server.stats.tokenRequests} token requests (minimum ${minimum}), ${calls} calls, ${checks} checked at the server, ${refusedByServer} refused`);
    assert.ok(checks >= 20, `only ${checks} tokens checked at the server`);
    assert.equal(expiredHandedOut, 0);
    assert.equal(refusedByServer, 0, `${refusedByServer} of ${checks} tokens checked were already expired at the server`);
    assert.equal(minimum, 17);
    assert.ok(server.stats.tokenRequests <= minimum, `${server.stats.tokenRequests} token requests, minimum ${minimum}`);
  });

  it("keeps a rotating refresh chain alive through 50 refreshes driven by concurrent callers", async (t) => {
    const server = await withDemoServer(t, { accessTokenTtl: 60 });
    const ts = await load(server, await tmpDir(t));
    t.after(() => ts.close());
    const user = ts.connection("demo-password");
    await user.accessToken();
    for (let round = 0; round < 50; round++) {
      const tokens = await Promise.all(Array.from({ length: 10 }, () => user.accessToken({ forceRefresh: true })));
      assert.equal(new Set(tokens).size, 1, "concurrent callers share one refresh");
    }
    assert.equal(server.stats.byOutcome.invalid_grant ?? 0, 0);
    assert.equal(server.stats.refreshReuseDetected, 0);
    assert.equal(server.stats.byGrant.refresh_token, 50);
    assert.equal((await callApi(server, "/whoami", await user.accessToken())).status, 200);
  });

  it("recovers from a revoked access token in fetch with exactly one refresh", async (t) => {
    const server = await withDemoServer(t);
    const ts = await load(server, await tmpDir(t));
    t.after(() => ts.close());
    const service = ts.connection("demo-service");
    const first = await service.accessToken();
    await server.revokeAccessToken(first);
    const res = await service.fetch(`${server.apiUrl}/whoami`);
    assert.equal(res.status, 200);
    await res.text();
    assert.equal(server.stats.tokenRequests, 2);
    assert.notEqual(await service.accessToken(), first);
  });

  it("shares one token state between two processes' worth of instances on the same file store", async (t) => {
    const server = await withDemoServer(t);
    const dir = await tmpDir(t);
    const a = await load(server, dir);
    const b = await load(server, dir);
    t.after(() => Promise.all([a.close(), b.close()]));
    const tokenA = await a.connection("demo-service").accessToken();
    const tokenB = await b.connection("demo-service").accessToken();
    assert.equal(tokenA, tokenB);
    assert.equal(server.stats.tokenRequests, 1);
  });

  it("reports status without secrets and logs out with a tombstone", async (t) => {
    const server = await withDemoServer(t);
    const ts = await load(server, await tmpDir(t));
    t.after(() => ts.close());
    const token = await ts.connection("demo-password").accessToken();
    const status = await ts.connection("demo-password").status();
    assert.equal(status.state, "valid");
    assert.equal(status.hasRefreshToken, true);
    assert.equal(status.tokenRequests, 1);
    const text = JSON.stringify(status);
    assert.ok(!text.includes(token));
    assert.ok(!text.includes(server.users.password));
    await ts.connection("demo-password").logout();
    assert.equal((await ts.connection("demo-password").status()).state, "none");
  });

  it("revokes at the server and drops the local state", async (t) => {
    const server = await withDemoServer(t);
    const ts = await load(server, await tmpDir(t));
    t.after(() => ts.close());
    const token = await ts.connection("demo-password").accessToken();
    const result = await ts.connection("demo-password").revoke();
    assert.ok(result.revoked.includes("refresh_token"));
    assert.equal((await callApi(server, "/whoami", token)).status, 401);
    assert.equal((await ts.connection("demo-password").status()).state, "none");
  });
});

/**
 * The README's TypeScript recipes (```ts blocks) from "The library" up to "Moving a login", in
 * order; each must make an API call. A config-only snippet is fenced ```typescript and checked elsewhere.
 */
async function readmeRecipes(): Promise<string[]> {
  const readme = await readFile(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8");
  const section = readme.slice(readme.indexOf("## The library"), readme.indexOf("## Moving a login"));
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

/** A recipe as a runnable script: package imports pointed at src/, example URLs at the demo API, and `billing` defined where the recipe assumes it. */
function runnable(recipe: string, apiUrl: string): string {
  const src = (path: string) => fileURLToPath(new URL(`../../src/${path}`, import.meta.url));
  let code = recipe
    .replace(/from "tokensmith"/g, `from ${JSON.stringify(src("index.ts"))}`)
    .replace(/from "tokensmith\/(undici|axios)"/g, (_m, name: string) => `from ${JSON.stringify(src(`http/${name}.ts`))}`)
    .replace(/from "(undici|axios)"/g, (_m, name: string) => `from ${JSON.stringify(import.meta.resolve(name))}`)
    .replaceAll("https://api.example.com", apiUrl)
    .replaceAll("/invoices", "/items");
  if (!/const billing\b/.test(code)) {
    code = `import { TokenSmith as TS } from ${JSON.stringify(src("index.ts"))};\nconst ts = await TS.load();\nconst billing = ts.connection("billing");\n${code}\nawait ts.close();\n`;
  }
  if (/const dispatcher\b/.test(code)) code += "await dispatcher.close();\n";
  return code;
}

describe("the README's library and API-call recipes", () => {
  it("run as written against the demo server, with the config found in the current folder", async (t) => {
    const server = await withDemoServer(t);
    const dir = await tmpDir(t);
    const config = demoConfig(server, { dir: join(dir, "store") }) as { connections: Record<string, unknown> };
    config.connections = { billing: config.connections["demo-service"] };
    await writeFile(join(dir, "tokensmith.yaml"), stringify(config));
    const recipes = await readmeRecipes();
    assert.ok(recipes.length >= 4, `found ${recipes.length} recipes`);
    const env = { PATH: process.env.PATH, HOME: dir, XDG_CONFIG_HOME: join(dir, "xdg") };
    // As the README says: a config found in the working folder is used once trusted (SPEC §1).
    const trusted = await cliProcess(["trust"], { cwd: dir, env });
    assert.equal(trusted.code, 0, trusted.stderr);
    for (const [i, recipe] of recipes.entries()) {
      const file = join(dir, `recipe-${i}.mts`);
      await writeFile(file, runnable(recipe, server.apiUrl));
      const before = server.stats.api.byOutcome.ok ?? 0;
      const { stderr } = await promisify(execFile)(process.execPath, ["--import", import.meta.resolve("tsx"), file], { cwd: dir, env, timeout: 30_000 });
      assert.equal(stderr, "", `recipe ${i + 1} wrote to stderr`);
      assert.ok((server.stats.api.byOutcome.ok ?? 0) > before, `recipe ${i + 1} made no successful API call:\n${recipe}`);
    }
    assert.equal(server.stats.api.byOutcome.invalid_token ?? 0, 0);
  });
});

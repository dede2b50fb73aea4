import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { outputOf, type CliResult } from "../support/cli.js";

/**
 * tokensmith as an installed package (needs `npm test`'s build): a project folder whose
 * node_modules holds a copy of what `npm pack` ships and links to tokensmith's dependencies
 * only, not its optional peers (oidc-provider, pg, ioredis) or dev dependencies.
 */

const ROOT = join(import.meta.dirname, "..", "..");
let project: string;

async function linkPackage(name: string): Promise<void> {
  const target = join(project, "node_modules", name);
  await mkdir(join(target, ".."), { recursive: true });
  await symlink(await realpath(join(ROOT, "node_modules", name)), target);
}

before(async () => {
  project = await mkdtemp(join(tmpdir(), "tokensmith-package-"));
  const installed = join(project, "node_modules", "tokensmith");
  const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { files: string[]; dependencies: Record<string, string> };
  // `files` as npm reads it: the entries, less the ones a `!` entry leaves out.
  const left = pkg.files.filter((f) => f.startsWith("!")).map((f) => join(ROOT, f.slice(1)));
  const filter = (source: string) => !left.includes(source);
  for (const entry of ["package.json", ...pkg.files.filter((f) => !f.startsWith("!"))]) await cp(join(ROOT, entry), join(installed, entry), { recursive: true, filter });
  for (const name of Object.keys(pkg.dependencies)) await linkPackage(name);
  await writeFile(join(project, "package.json"), JSON.stringify({ name: "app", private: true }));
});
after(async () => {
  await rm(project, { recursive: true, force: true });
});

function node(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return outputOf(spawn(process.execPath, args, { cwd: project, env: { PATH: process.env.PATH, HOME: project, ...env }, stdio: ["ignore", "pipe", "pipe"] }));
}

const INLINE = `{ store: { type: "memory" }, connections: { billing: { grant: "client_credentials", token_url: "https://auth.example.com/token", client_id: "app", client_secret: "s3cret-value" } } }`;

describe("the installed package", () => {
  it("can be required from CommonJS, adapters and the store engine included, with one TokenSmithError class", async () => {
    const script = `
      const { TokenSmith, TokenSmithError, defineConfig } = require("tokensmith");
      const config = defineConfig(${INLINE});
      TokenSmith.load({ config }).then(async (ts) => {
        let code;
        try { ts.connection("nope"); } catch (err) { code = err instanceof TokenSmithError && err.code; }
        await ts.close();
        console.log(JSON.stringify({
          same: defineConfig === require("tokensmith").defineConfig && config.connections.billing.client_id,
          names: ts.connectionNames(),
          code,
          undici: typeof require("tokensmith/undici").authorize,
          axios: Object.keys(require("tokensmith/axios")).length > 0,
          store: typeof require("tokensmith/store").createStoreFromBackend,
        }));
      });`;
    const result = await node(["-e", script]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { same: "app", names: ["billing"], code: "config_invalid", undici: "function", axios: true, store: "function" });
  });

  it("can still be imported as an ES module", async () => {
    const result = await node(["--input-type=module", "-e", `import { TokenSmith, defineConfig } from "tokensmith"; const ts = await TokenSmith.load({ config: defineConfig(${INLINE}) }); console.log(ts.connectionNames().join()); await ts.close();`]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "billing\n");
  });

  it("gives defineConfig() the config's types (the shipped .d.ts, checked by tsc)", async () => {
    await linkPackage("@types/node");
    await cp(join(import.meta.dirname, "fixtures", "define-config.ts"), join(project, "app.ts"));
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const flags = ["--noEmit", "--strict", "--skipLibCheck", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--types", "node"];
    const result = await node([tsc, ...flags, "app.ts"]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });

  it("names the one install command for an optional peer that is missing: oidc-provider for the demo, pg for a postgres store", async () => {
    const bin = join(project, "node_modules", "tokensmith", "bin", "tokensmith.js");
    const demo = await node([bin, "demo", "--dir", join(project, "demo")]);
    assert.equal(demo.code, 2, demo.stderr);
    assert.match(demo.stderr, /tokensmith demo needs the package "oidc-provider", which is not installed/);
    assert.match(demo.stderr, /npm install oidc-provider/);
    assert.doesNotMatch(demo.stderr, /\n\s+at /, "no stack trace");

    const config = join(project, "pg.yaml");
    await writeFile(config, "store: {type: postgres, url: 'postgres://127.0.0.1/test', key: '${env:KEY}'}\nconnections:\n  a: {grant: client_credentials, token_url: 'https://auth.example.com/token', client_id: x, client_secret: y}\n");
    const pg = await node([bin, "token", "a", "--config", config], { KEY: Buffer.alloc(32, 7).toString("base64") });
    assert.equal(pg.code, 4, pg.stderr);
    assert.match(pg.stderr, /store type postgres needs the package "pg"[\s\S]*npm install pg/);
  });
});

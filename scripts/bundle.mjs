#!/usr/bin/env node
// Bundle the CLI into dist/cli-bundle/ so `tokensmith token` starts fast: one CommonJS file
// (main.cjs) instead of hundreds of small modules, which launch.cjs (from src/cli/launch.ts)
// compiles through V8's code cache, kept beside it as main.cjs.cache (made here by a warm-up
// run, remade by a run when Node's version changes).
// CommonJS because Node 20 can cache compiled code only for scripts, not ES modules. Parts
// only some commands need (jose, the demo server, the gateway) are still initialised lazily;
// heavy optional packages stay real packages, resolved from node_modules when used.
import { build } from "esbuild";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { routeDynamicImports } from "./route-imports.mjs";

const root = resolve(import.meta.dirname, "..");
const run = promisify(execFile);
const outdir = resolve(root, "dist/cli-bundle");

const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: "none",
  logLevel: "warning",
};

// What the bundle's ESM sources expect: import.meta for the bundle's own file (as it meant the
// chunk's in an ESM bundle), and a plain import() if something requires the bundle directly.
const PRELUDE = [
  '"use strict";',
  'var __bundleMetaUrl=require("node:url").pathToFileURL(__filename).href;',
  'var __bundleImport=typeof __bundleImport=="function"?__bundleImport:s=>import(s);',
].join("");

/**
 * Commander requires child_process when it loads, for executable subcommands, which
 * tokensmith does not have: it gets a stand-in that loads the real module on first use.
 */
const lazyChildProcess = {
  name: "lazy-child-process",
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: "child_process", namespace: "lazy-builtin" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, () => ({
      contents: 'module.exports = new Proxy({}, { get: (_, key) => require("node:child_process")[key] });',
      loader: "js",
    }));
  },
};

/**
 * jsonpath-plus builds its expression parser when it loads (~5 ms of a cached `token` run),
 * and only `response:` mappings and `call --paginate` use it: its importers get a stand-in
 * whose `JSONPath` requires the real package (bundled, initialised lazily) on first call.
 */
const lazyJsonPath = {
  name: "lazy-jsonpath",
  setup(b) {
    b.onResolve({ filter: /^jsonpath-plus$/ }, (args) => (args.namespace === "lazy-package" ? undefined : { path: "jsonpath-plus", namespace: "lazy-package" }));
    b.onLoad({ filter: /.*/, namespace: "lazy-package" }, () => ({
      contents: 'let real;\nexport function JSONPath(...args) {\n  real ??= require("jsonpath-plus");\n  return real.JSONPath.apply(this, args);\n}\n',
      loader: "js",
      resolveDir: root,
    }));
  },
};

const cli = await build({
  ...common,
  entryPoints: [resolve(root, "src/cli/main.ts")],
  outfile: resolve(outdir, "main.cjs"),
  format: "cjs",
  write: false,
  external: ["pg", "ioredis", "oidc-provider", "undici", "axios", "playwright-core"],
  plugins: [lazyChildProcess, lazyJsonPath],
  define: { "import.meta.url": "__bundleMetaUrl", "import.meta.filename": "__filename", "import.meta.dirname": "__dirname" },
});
// CommonJS too, like bin/tokensmith.js that requires it: no ES module loader on the way in.
const launcher = await build({
  ...common,
  entryPoints: [resolve(root, "src/cli/launch.ts")],
  outfile: resolve(outdir, "launch.cjs"),
  format: "cjs",
  write: false,
  banner: { js: 'var __bundleMetaUrl=require("node:url").pathToFileURL(__filename).href;' },
  define: { "import.meta.url": "__bundleMetaUrl" },
});

// Earlier builds' files (and a code cache made for another bundle) must not linger.
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
writeFileSync(resolve(outdir, "main.cjs"), PRELUDE + routeDynamicImports(cli.outputFiles[0].text));
writeFileSync(resolve(outdir, "launch.cjs"), launcher.outputFiles[0].text);

await warmCodeCache();

/**
 * Makes the code cache now, so a read-only install (and the first run) starts fast too, from
 * the run whose start matters most: `tokensmith token` answered from the store. A local
 * token server fills a temporary file store first (that run uncached, so it leaves no cache).
 */
async function warmCodeCache() {
  const dir = mkdtempSync(join(tmpdir(), "tokensmith-bundle-"));
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ access_token: "warm-up", token_type: "Bearer", expires_in: 3600 }));
    });
  });
  await new Promise((ready) => server.listen(0, "127.0.0.1", ready));
  const config = join(dir, "tokensmith.yaml");
  writeFileSync(
    config,
    [
      `store: {type: file, dir: ${JSON.stringify(join(dir, "store"))}}`,
      "connections:",
      "  warm-up:",
      "    grant: client_credentials",
      `    token_url: http://127.0.0.1:${server.address().port}/token`,
      "    client_id: warm-up",
      "    client_secret: warm-up",
      "    allow_insecure_http: true",
    ].join("\n"),
  );
  const token = (env) => run(process.execPath, [resolve(root, "bin/tokensmith.js"), "token", "warm-up", "--config", config], { env: { ...process.env, ...env } });
  try {
    await token({ NODE_DISABLE_COMPILE_CACHE: "1" });
    await token({});
  } catch (err) {
    console.warn(`bundle: no code cache yet (the warm-up run failed: ${err.stderr || err.message})`);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

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
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
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
 * Packages that a cached `token` run never calls, each kept in its own file beside the bundle
 * (dist/cli-bundle/vendor/) and required on first use: YAML and zod (only when the config is
 * not in the config cache), jose (signing, ID tokens, the demo) and jsonpath-plus (`response:`
 * mappings, pagination). Inside main.cjs they cost its read, its compile and its code cache
 * on every run (~340 KB of ~770 KB).
 */
const VENDOR = {
  yaml: { file: "yaml.cjs", entry: 'module.exports = require("yaml");' },
  "zod/mini": { file: "zod.cjs", entry: 'export * from "zod/mini";\nexport { default as en } from "zod/v4/locales/en.js";' },
  // A default import: what the schema imports is the function, not the module object.
  "zod/v4/locales/en.js": { file: "zod.cjs", shim: 'export default require("./vendor/zod.cjs").en;' },
  jose: { file: "jose.cjs", entry: 'export * from "jose";' },
  "jsonpath-plus": { file: "jsonpath-plus.cjs", entry: 'module.exports = require("jsonpath-plus");' },
};

const vendor = {
  name: "vendor",
  setup(b) {
    const names = Object.keys(VENDOR).map((name) => name.replace(/[./]/g, "\\$&"));
    b.onResolve({ filter: new RegExp(`^(${names.join("|")})$`) }, (args) => {
      const { file, shim } = VENDOR[args.path];
      return shim ? { path: args.path, namespace: "vendor-shim" } : { path: `./vendor/${file}`, external: true };
    });
    b.onResolve({ filter: /^\.\/vendor\// }, (args) => ({ path: args.path, external: true }));
    b.onLoad({ filter: /.*/, namespace: "vendor-shim" }, (args) => ({ contents: VENDOR[args.path].shim, loader: "js", resolveDir: root }));
  },
};

/**
 * jsonpath-plus builds its expression parser when it loads (~5 ms of a cached `token` run),
 * and only `response:` mappings and `call --paginate` use it: its importers get a stand-in
 * whose `JSONPath` requires the real package (its vendor file) on first call.
 */
const lazyJsonPath = {
  name: "lazy-jsonpath",
  setup(b) {
    b.onResolve({ filter: /^jsonpath-plus$/ }, (args) => (args.namespace === "lazy-package" ? undefined : { path: "jsonpath-plus", namespace: "lazy-package" }));
    b.onLoad({ filter: /.*/, namespace: "lazy-package" }, () => ({
      contents: 'let real;\nexport function JSONPath(...args) {\n  real ??= require("./vendor/jsonpath-plus.cjs");\n  return real.JSONPath.apply(this, args);\n}\n',
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
  plugins: [lazyChildProcess, lazyJsonPath, vendor],
  define: { "import.meta.url": "__bundleMetaUrl", "import.meta.filename": "__filename", "import.meta.dirname": "__dirname" },
});
const mainText = PRELUDE + routeDynamicImports(cli.outputFiles[0].text);
const digest = JSON.stringify(createHash("sha1").update(mainText).digest("hex"));
/** A small entry of its own beside main.cjs that knows main.cjs's digest (`__BUNDLE_DIGEST__`). */
const besideMain = (entry, outfile, options = {}) =>
  build({ ...common, entryPoints: [resolve(root, entry)], outfile: resolve(outdir, outfile), format: "cjs", write: false, ...options, define: { ...options.define, __BUNDLE_DIGEST__: digest } });
// CommonJS too, like bin/tokensmith.js that requires it: no ES module loader on the way in.
// It knows main.cjs's digest (the key of its code cache) rather than hashing it every run.
const launcher = await besideMain("src/cli/launch.ts", "launch.cjs", {
  banner: { js: 'var __bundleMetaUrl=require("node:url").pathToFileURL(__filename).href;' },
  define: { "import.meta.url": "__bundleMetaUrl" },
});
// The `token`/`header` fast path (src/cli/fast-token.ts), which the binary tries first: it
// serves a valid stored token without loading main.cjs. main.cjs's digest is the build id
// that token routes are kept for.
const fast = await besideMain("src/cli/fast-token.ts", "fast.cjs");

// Earlier builds' files (and a code cache made for another bundle) must not linger.
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
writeFileSync(resolve(outdir, "main.cjs"), mainText);
writeFileSync(resolve(outdir, "launch.cjs"), launcher.outputFiles[0].text);
writeFileSync(resolve(outdir, "fast.cjs"), fast.outputFiles[0].text);
mkdirSync(resolve(outdir, "vendor"));
for (const { file, entry } of Object.values(VENDOR).filter((v) => v.entry)) {
  await build({
    ...common,
    stdin: { contents: entry, resolveDir: root, loader: "js" },
    outfile: resolve(outdir, "vendor", file),
    format: "cjs",
    define: { "import.meta.url": "__bundleMetaUrl" },
    banner: { js: 'var __bundleMetaUrl=require("node:url").pathToFileURL(__filename).href;' },
  });
}

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
  // Its own cache folder: the warm-up's config cache must not land in the builder's home.
  const token = (env) =>
    run(process.execPath, [resolve(root, "bin/tokensmith.js"), "token", "warm-up", "--config", config], { env: { ...process.env, XDG_CACHE_HOME: join(dir, "cache"), ...env } });
  try {
    await token({ NODE_DISABLE_COMPILE_CACHE: "1" });
    // The first run left a token route: without it, the second run is the CLI's, not the fast path's.
    const routes = join(dir, "cache", "tokensmith");
    for (const name of readdirSync(routes)) if (name.startsWith("token-")) rmSync(join(routes, name));
    await token({});
  } catch (err) {
    console.warn(`bundle: no code cache yet (the warm-up run failed: ${err.stderr || err.message})`);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

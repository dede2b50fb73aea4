#!/usr/bin/env node
// The CommonJS entry points, for `require("tokensmith")` on Node versions without
// require(esm) (Node 20 by default): dist/index.cjs, dist/http/undici.cjs, dist/http/axios.cjs,
// dist/store/public.cjs.
// They share one bundle (dist/cjs/tokensmith.cjs), so the adapters and the library see the same
// TokenSmithError class and the same secret registry. Packages stay packages (required, or
// import()ed when ES-only like jose and oidc-provider). ES module users get dist/*.js as before.
import { build } from "esbuild";
import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(import.meta.dirname, "..");
const dist = resolve(root, "dist");
const ENTRIES = { index: "./src/index.ts", undici: "./src/http/undici.ts", axios: "./src/http/axios.ts", store: "./src/store/public.ts" };

/**
 * zod's locales are ES modules even under `require` (its exports map sends both conditions to
 * the .js file), and a default import of one would get CommonJS interop: bundle them in.
 */
const bundleZodLocales = {
  name: "bundle-zod-locales",
  setup(b) {
    b.onResolve({ filter: /^zod\/v4\/locales\// }, (args) => ({ path: fileURLToPath(import.meta.resolve(args.path)) }));
  },
};

await build({
  stdin: {
    contents: Object.entries(ENTRIES).map(([name, path]) => `export * as ${name} from ${JSON.stringify(path)};`).join("\n"),
    resolveDir: root,
    loader: "ts",
  },
  outfile: resolve(dist, "cjs", "tokensmith.cjs"),
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  packages: "external",
  plugins: [bundleZodLocales],
  legalComments: "none",
  logLevel: "warning",
});
mkdirSync(resolve(dist, "http"), { recursive: true });
const shim = (from, name) => `"use strict";\nmodule.exports = require(${JSON.stringify(from)}).${name};\n`;
writeFileSync(resolve(dist, "index.cjs"), shim("./cjs/tokensmith.cjs", "index"));
writeFileSync(resolve(dist, "http", "undici.cjs"), shim("../cjs/tokensmith.cjs", "undici"));
writeFileSync(resolve(dist, "http", "axios.cjs"), shim("../cjs/tokensmith.cjs", "axios"));
mkdirSync(resolve(dist, "store"), { recursive: true });
writeFileSync(resolve(dist, "store", "public.cjs"), shim("../cjs/tokensmith.cjs", "store"));

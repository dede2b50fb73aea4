#!/usr/bin/env node
// Bundle the CLI into dist/cli-bundle/ so `tokensmith token` starts fast: one file to parse
// instead of hundreds of small modules (zod alone is ~100). Lazily imported parts (the demo
// server, the Postgres and Redis drivers, jose) become separate chunks, loaded only when used.
import { build } from "esbuild";
import { resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
await build({
  entryPoints: { main: resolve(root, "src/cli/main.ts") },
  outdir: resolve(root, "dist/cli-bundle"),
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: "none",
  // Heavy optional dependencies stay real packages, resolved from node_modules when used.
  external: ["pg", "ioredis", "oidc-provider", "undici", "axios", "playwright-core"],
  banner: { js: "import { createRequire as __tsCreateRequire } from 'node:module'; const require = __tsCreateRequire(import.meta.url);" },
  logLevel: "warning",
});

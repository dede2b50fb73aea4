#!/usr/bin/env node
// Thin launcher, CommonJS (bin/package.json) so a run starts without Node's ES module loader,
// whose facades for built-in modules alone cost several milliseconds. `npm install` (the
// prepare script) compiles to dist/ and bundles the CLI into dist/cli-bundle/ for a fast start
// (launch.cjs runs it through V8's code cache); the unbundled ES module build is the fallback.
"use strict";
const { existsSync } = require("node:fs");
const { join } = require("node:path");
const { pathToFileURL } = require("node:url");

const bundle = join(__dirname, "..", "dist", "cli-bundle");
const launcher = join(bundle, "launch.cjs");
const argv = process.argv.slice(2);
// `token`/`header` with a valid stored token: fast.cjs answers without loading the CLI, or
// prints nothing and says no (src/cli/fast-token.ts); the CLI then runs as always.
if (!served(argv)) run(argv);

function served(argv) {
  if (!argv.includes("token") && !argv.includes("header")) return false;
  try {
    return require(join(bundle, "fast.cjs")).serve(argv);
  } catch {
    return false; // Not built (the unbundled fallback below), or a bug: the CLI answers.
  }
}

function run(argv) {
  if (existsSync(launcher)) {
    require(launcher).launch(argv);
  } else {
    import(pathToFileURL(join(__dirname, "..", "dist", "cli", "main.js")).href).then((m) => m.main(argv));
  }
}

#!/usr/bin/env node
// Thin launcher. `npm install` (the prepare script) compiles to dist/ and bundles the CLI into
// dist/cli-bundle/ for a fast start (launch.js runs it through V8's code cache); the unbundled
// build is the fallback.
import { existsSync } from "node:fs";

const launcher = new URL("../dist/cli-bundle/launch.js", import.meta.url);
const argv = process.argv.slice(2);
if (existsSync(launcher)) {
  import(launcher.href).then((m) => m.launch(argv));
} else {
  import(new URL("../dist/cli/main.js", import.meta.url).href).then((m) => m.main(argv));
}

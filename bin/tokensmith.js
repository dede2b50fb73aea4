#!/usr/bin/env node
// Thin launcher. `npm install` (the prepare script) compiles to dist/ and bundles the CLI into
// dist/cli-bundle/ for a fast start; the unbundled build is the fallback.
import { existsSync } from "node:fs";

const bundle = new URL("../dist/cli-bundle/main.js", import.meta.url);
const entry = existsSync(bundle) ? bundle.href : new URL("../dist/cli/main.js", import.meta.url).href;
import(entry).then((m) => m.main(process.argv.slice(2)));

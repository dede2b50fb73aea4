#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm install` (the prepare script).
import("../dist/cli/main.js").then((m) => m.main(process.argv.slice(2)));

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { launch, loadBundle } from "../../src/cli/launch.js";
import { BIN, outputOf, type CliResult } from "../support/cli.js";

const LAUNCH = join(import.meta.dirname, "..", "..", "src", "cli", "launch.ts");

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tokensmith-launch-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function bundle(text: string, name = "main.cjs"): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

function runNode(args: string[]): Promise<CliResult> {
  return outputOf(spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] }));
}

describe("loadBundle", () => {
  it("runs a CommonJS bundle and uses the code it cached on the next run", async () => {
    const file = await bundle('"use strict";\nexports.answer = () => 42;\nexports.where = [__filename, __dirname, typeof require("node:path").join];\n');
    const first = loadBundle(file);
    assert.equal((first.exports.answer as () => number)(), 42);
    assert.deepEqual(first.exports.where, [file, dir, "function"]);
    assert.equal(first.cacheUsed, false);
    first.saveCache();
    const cache = await readFile(`${file}.cache`);
    assert.deepEqual(cache.subarray(0, 20), createHash("sha1").update(await readFile(file)).digest());

    const second = loadBundle(file);
    assert.equal(second.cacheUsed, true);
    assert.equal((second.exports.answer as () => number)(), 42);
  });

  it("ignores a cache made from another bundle of the same length, and replaces it", async () => {
    const file = await bundle("exports.answer = () => 41;\n");
    loadBundle(file).saveCache();
    await writeFile(file, "exports.answer = () => 42;\n");
    const changed = loadBundle(file);
    assert.equal(changed.cacheUsed, false);
    assert.equal((changed.exports.answer as () => number)(), 42);
    changed.saveCache();
    assert.equal(loadBundle(file).cacheUsed, true);
  });

  it("runs uncached when the cache cannot be written, or is switched off", async () => {
    const file = await bundle("exports.ok = true;\n");
    const unwritable = loadBundle(file, { cacheFile: join(dir, "missing-folder", "main.cjs.cache") });
    assert.equal(unwritable.exports.ok, true);
    unwritable.saveCache();

    const off = loadBundle(file, { useCache: false });
    off.saveCache();
    assert.equal(existsSync(`${file}.cache`), false);
  });

  it("keeps the bundle's own line numbers in stack traces", async () => {
    const file = await bundle('"use strict";\n\nexports.fail = () => { throw new Error("boom"); };\n');
    const loaded = loadBundle(file);
    assert.throws(() => (loaded.exports.fail as () => void)(), (err: Error) => (err.stack ?? "").includes(`${file}:3:`));
  });
});

describe("launch", () => {
  it("runs the bundle's main with the arguments, then writes the cache", async () => {
    const file = await bundle("exports.main = async (argv) => { globalThis.__launchedWith = argv; };\n");
    await launch(["token", "x"], file);
    assert.deepEqual((globalThis as { __launchedWith?: string[] }).__launchedWith, ["token", "x"]);
    assert.equal(existsSync(`${file}.cache`), true);
  });

  it("gives the bundle an import() that resolves beside it, from cached code too", async () => {
    await writeFile(join(dir, "dep.mjs"), "export const value = 'from beside the bundle';\n");
    // What scripts/bundle.mjs makes of `import("./dep.mjs")`.
    const file = await bundle('exports.main = async () => { const m = await __bundleImport("./dep.mjs"); process.stdout.write(m.value); };\n');
    const script = `import(${JSON.stringify(LAUNCH)}).then((m) => m.launch([], ${JSON.stringify(file)}))`;
    for (const run of ["first", "cached"]) {
      const result = await runNode(["--import", "tsx", "-e", script]);
      assert.equal(result.code, 0, `${run}: ${result.stderr}`);
      assert.equal(result.stdout, "from beside the bundle", run);
      assert.equal(result.stderr, "", run);
    }
    assert.equal(existsSync(`${file}.cache`), true);
  });

  it("bin/tokensmith.js is CommonJS end to end (no ES module loader at start-up) and prints the version", async () => {
    const pkg = JSON.parse(await readFile(join(import.meta.dirname, "..", "..", "package.json"), "utf8")) as { version: string };
    const version = await runNode([BIN, "--version"]);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout.trim(), pkg.version);
    // Node 20's require() refuses an ES module (ERR_REQUIRE_ESM): this passes only for CommonJS.
    const required = await runNode(["-e", `process.argv = [process.argv[0], "tokensmith", "-V"]; require(${JSON.stringify(BIN)})`]);
    assert.equal(required.code, 0, required.stderr);
    assert.equal(required.stdout.trim(), pkg.version);
  });
});

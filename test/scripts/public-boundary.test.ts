import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";

/**
 * The public boundary (SPEC §4, §7): the layers that must not reach into each other don't, and
 * the shipped types (needs `npm test`'s build) show users the public API, not the engine.
 */

const ROOT = join(import.meta.dirname, "..", "..");
const DIST = join(ROOT, "dist");

/** scripts/check-layers.mjs's findings, one per line. */
async function layerFindings(): Promise<string[]> {
  const run = await promisify(execFile)(process.execPath, [join(ROOT, "scripts", "check-layers.mjs")]).catch((err: { stdout: string }) => err);
  return run.stdout.split("\n").filter((line) => line && !line.startsWith("layers:"));
}

/** Every .d.ts file the package's entry points lead to, relative to dist/. */
function shippedTypes(): Map<string, string> {
  const files = new Map<string, string>();
  const queue = ["index.d.ts", "http/undici.d.ts", "http/axios.d.ts"].map((entry) => join(DIST, entry));
  while (queue.length) {
    const file = queue.pop()!;
    const rel = relative(DIST, file);
    if (files.has(rel) || !existsSync(file)) continue;
    const text = readFileSync(file, "utf8");
    files.set(rel, text);
    for (const [, spec] of text.matchAll(/(?:from\s+|import\()\s*["'](\.[^"']+)["']/g)) queue.push(resolve(dirname(file), spec!.replace(/\.js$/, ".d.ts")));
  }
  return files;
}

describe("the public boundary", () => {
  it("has no import cycle outside the store, and no layer reaching where it must not (but protocol → config, another change)", async () => {
    const findings = await layerFindings();
    const mine = findings.filter((line) => !line.startsWith("protocol/") && !/^import cycle: (store\/\S+( <-> )?)+$/.test(line));
    assert.deepEqual(mine, []);
  });

  it("ships a Connection type with the documented methods only, and LoadOptions without tokensmith's own injections", () => {
    const connection = readFileSync(join(DIST, "lifecycle", "connection.d.ts"), "utf8");
    for (const internal of ["setup(", "stateSetup", "cachedToken", "isDead", "markDead", "storedToken", "tombstone(", "Runtime"]) {
      assert.ok(!connection.includes(internal), `dist/lifecycle/connection.d.ts shows ${internal}`);
    }
    const tokensmith = readFileSync(join(DIST, "tokensmith.d.ts"), "utf8");
    for (const internal of ["configCache", "observeStore"]) assert.ok(!tokensmith.includes(internal), `dist/tokensmith.d.ts shows ${internal}`);
  });

  it("speaks to users, not to the SPEC, in the types the entry points lead to", () => {
    // Not yet reworded: files other changes own (the protocol's types, the store contract).
    const pending = new Set(["protocol/types.d.ts", "store/types.d.ts"]);
    const citing = [...shippedTypes()].filter(([file, text]) => !pending.has(file) && text.includes("SPEC §")).map(([file]) => file);
    assert.deepEqual(citing, []);
  });
});

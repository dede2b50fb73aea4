import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { exitCodeOf } from "../../src/cli/exit-codes.js";
import { ERROR_CODES, TokenSmithError } from "../../src/errors.js";
import { SCHEMA_DIR } from "../support/json-schema.js";

/**
 * The written contract for scripts, checked against the code: the README's table of error
 * codes against src/errors.ts and src/cli/exit-codes.ts, the error schema's list of codes, and
 * every schema in docs/schemas against the tests that check real output with it and the page
 * that lists it (docs/json.md).
 */

const root = join(import.meta.dirname, "..", "..");
const README = readFileSync(join(root, "README.md"), "utf8");

/** The README's "Error codes" table: code → exit code. */
function readmeErrorTable(): Map<string, number> {
  const section = README.slice(README.indexOf("### Error codes"));
  assert.ok(section.length > 0, "the README has an Error codes section");
  const rows = new Map<string, number>();
  for (const line of section.split("\n").slice(1)) {
    if (line.startsWith("#")) break;
    const match = /^\| `([a-z_]+)` \| (\d) \|/.exec(line);
    if (match) rows.set(match[1]!, Number(match[2]));
  }
  return rows;
}

function testFiles(dir = join(root, "test"), out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) testFiles(path, out);
    else if (path.endsWith(".ts")) out.push(path);
  }
  return out;
}

const schemaNames = () => readdirSync(SCHEMA_DIR).filter((f) => f.endsWith(".schema.json")).map((f) => f.replace(/\.schema\.json$/, ""));

describe("the JSON contract scripts rely on", () => {
  it("the README documents every error code of src/errors.ts with the exit code the CLI gives it", () => {
    const table = readmeErrorTable();
    assert.deepEqual([...table.keys()].sort(), [...ERROR_CODES].sort(), "the README's codes are exactly src/errors.ts's");
    for (const code of ERROR_CODES) {
      assert.equal(table.get(code), exitCodeOf(new TokenSmithError(code, "x")), `README: exit code of ${code}`);
    }
  });

  it("the error schema lists exactly the codes of src/errors.ts", () => {
    const schema = JSON.parse(readFileSync(join(SCHEMA_DIR, "error.schema.json"), "utf8"));
    assert.deepEqual([...schema.properties.error.properties.code.enum].sort(), [...ERROR_CODES].sort());
  });

  it("every schema checks real output in some test, and docs/json.md lists it", () => {
    const used = new Set<string>();
    for (const file of testFiles()) {
      for (const match of readFileSync(file, "utf8").matchAll(/assert(?:MatchesSchema|Document)\("([a-z0-9-]+)"/g)) used.add(match[1]!);
    }
    const page = readFileSync(join(root, "docs", "json.md"), "utf8");
    for (const name of schemaNames()) {
      assert.ok(used.has(name), `no test checks output against docs/schemas/${name}.schema.json`);
      assert.ok(page.includes(`schemas/${name}.schema.json`), `docs/json.md does not list ${name}.schema.json`);
    }
    for (const name of used) assert.ok(schemaNames().includes(name), `a test names a schema that does not exist: ${name}`);
  });
});

import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";

/** docs/schemas: one JSON Schema (draft 2020-12) per `--json` document and gateway response. */
export const SCHEMA_DIR = join(import.meta.dirname, "..", "..", "docs", "schemas");

let ajv: Ajv2020 | undefined;

function validator(): Ajv2020 {
  if (ajv) return ajv;
  ajv = new Ajv2020({ allErrors: true, strict: true });
  // Every schema is registered under its file name, so one may `$ref` another ("error.schema.json").
  for (const file of readdirSync(SCHEMA_DIR).filter((f) => f.endsWith(".schema.json"))) {
    ajv.addSchema(JSON.parse(readFileSync(join(SCHEMA_DIR, file), "utf8")), file);
  }
  return ajv;
}

/** Asserts that `value` (real output, parsed) matches docs/schemas/NAME.schema.json. */
export function assertMatchesSchema(name: string, value: unknown): void {
  const validate = validator().getSchema(`${name}.schema.json`);
  assert.ok(validate, `no schema docs/schemas/${name}.schema.json`);
  const ok = validate(value);
  assert.ok(ok, `output does not match docs/schemas/${name}.schema.json: ${JSON.stringify(validate.errors, null, 2)}\n${JSON.stringify(value, null, 2)}`);
}

/**
 * Keys whose values keep names that are not tokensmith's: `extra` (the token response's own
 * fields), `headers` and `token_headers` (HTTP header names), `body` (an API's answer, `call
 * --json`), `kdf` (scrypt's parameters N, r, p as RFC 7914 names them, in an export bundle).
 */
const PASSED_THROUGH = new Set(["extra", "headers", "token_headers", "body", "kdf"]);

/** Asserts that no key anywhere in `value` is camelCase (SPEC §3: snake_case keys everywhere). */
export function assertSnakeCase(value: unknown, path = "$"): void {
  if (Array.isArray(value)) return value.forEach((v, i) => assertSnakeCase(v, `${path}[${i}]`));
  if (value === null || typeof value !== "object") return;
  for (const [key, v] of Object.entries(value)) {
    assert.match(key, /^[a-z0-9_]+$/, `${path}.${key} is not snake_case`);
    if (!PASSED_THROUGH.has(key)) assertSnakeCase(v, `${path}.${key}`);
  }
}

/** A document as SPEC §3 wants it: matching docs/schemas/NAME.schema.json, with snake_case keys. */
export function assertDocument(name: string, value: unknown): void {
  assertMatchesSchema(name, value);
  assertSnakeCase(value);
}

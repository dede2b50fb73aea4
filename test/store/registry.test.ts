import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { storeSchema } from "../../src/config/schema.js";
import { STORE_DRIVERS, STORE_FIELDS, STORE_TYPES } from "../../src/store/registry.js";

/** The driver registry is the one place the config schema and `createStore` learn the drivers from. */

const KEY = randomBytes(32).toString("base64");
/** A valid value for each location field. */
const SAMPLE: Record<(typeof STORE_FIELDS)[number], unknown> = { dir: "/tmp/x", url: "", schema: "public", prefix: "app:", cluster: ["redis://127.0.0.1:7000"] };

describe("the store driver registry", () => {
  test("every row is a store.type the config accepts, and nothing else is", () => {
    assert.deepEqual(STORE_TYPES, ["memory", "file", "postgres", "redis"]);
    for (const type of STORE_TYPES) assert.equal(storeSchema.safeParse(minimal(type)).success, true, type);
    assert.equal(storeSchema.safeParse({ type: "s3" }).success, false);
  });

  test("each row's fields are the location fields the config accepts for its type", () => {
    for (const type of STORE_TYPES) {
      const driver = STORE_DRIVERS[type];
      for (const field of STORE_FIELDS) {
        // `cluster` stands in for `url` (one or the other), so it is tried without one.
        const { url: _url, ...withoutUrl } = minimal(type) as { url?: string };
        const base = field === "cluster" ? withoutUrl : minimal(type);
        const parsed = storeSchema.safeParse({ ...base, [field]: field === "url" ? urlFor(type) || "x://y" : SAMPLE[field] });
        const accepted = (driver.fields as readonly string[]).includes(field);
        assert.equal(parsed.success, accepted, `${type}.${field}`);
      }
    }
  });

  test("a row with URL schemes requires store.url, and one that needs a key requires store.key", () => {
    for (const type of STORE_TYPES) {
      const driver = STORE_DRIVERS[type];
      const issues = (storeSchema.safeParse({ type }).error?.issues ?? []).map((i) => i.path.join("."));
      assert.equal(issues.includes("url"), "schemes" in driver, `${type}: url`);
      assert.equal(issues.includes("key"), driver.needsKey, `${type}: key`);
    }
  });
});

/** The smallest valid section of `type`. */
const minimal = (type: string) => ({ type, key: KEY, ...(urlFor(type) && { url: urlFor(type) }) });

function urlFor(type: string): string {
  const driver = STORE_DRIVERS[type as keyof typeof STORE_DRIVERS];
  return "schemes" in driver ? `${driver.schemes[0]}//localhost/x` : "";
}

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TokenSmithError } from "../../src/errors.js";
import { importDriverPackage } from "../../src/store/driver-package.js";

describe("importDriverPackage", () => {
  it("turns a missing client package into a store_error that names it and says how to install it", async () => {
    await assert.rejects(
      importDriverPackage(() => import("tokensmith-no-such-driver-package" as string), "pg", "postgres"),
      (err: unknown) => {
        assert.ok(err instanceof TokenSmithError);
        assert.equal(err.code, "store_error");
        assert.equal(err.field, "store.type");
        assert.match(err.message, /store type postgres needs the package "pg"/);
        assert.match(err.hint ?? "", /npm install pg/);
        return true;
      },
    );
  });

  it("loads an installed package, and passes any other failure through unchanged", async () => {
    const { Redis } = await importDriverPackage(() => import("ioredis"), "ioredis", "redis");
    assert.equal(typeof Redis, "function");
    const boom = new Error("boom");
    await assert.rejects(importDriverPackage(() => Promise.reject(boom), "pg", "postgres"), (err) => err === boom);
  });
});

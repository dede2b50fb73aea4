import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TokenSmithError } from "../../src/errors.js";
import { parseDuration, parseTtl } from "../../src/config/duration.js";

describe("durations", () => {
  it("reads numbers as seconds and strings with units", () => {
    assert.equal(parseDuration(90), 90_000);
    assert.equal(parseDuration(0.5), 500);
    assert.equal(parseDuration("90"), 90_000);
    assert.equal(parseDuration("90s"), 90_000);
    assert.equal(parseDuration("5m"), 300_000);
    assert.equal(parseDuration("1h"), 3_600_000);
    assert.equal(parseDuration("250ms"), 250);
    assert.equal(parseDuration(" 1.5 s "), 1500);
  });

  it("refuses anything else with an error naming the field", () => {
    for (const bad of ["5 minutes", "-1s", "1d", "", "s", -3, Number.NaN, Infinity, null, {}]) {
      assert.throws(
        () => parseDuration(bad, "connections.a.timeout"),
        (err: unknown) => err instanceof TokenSmithError && err.code === "config_invalid" && err.field === "connections.a.timeout",
        String(bad),
      );
    }
  });

  it("accepts never as a token lifetime", () => {
    assert.equal(parseTtl("never"), "never");
    assert.equal(parseTtl("2h"), 7_200_000);
    assert.throws(() => parseTtl("forever"), (err: unknown) => err instanceof TokenSmithError && /never/.test(err.hint ?? ""));
  });
});

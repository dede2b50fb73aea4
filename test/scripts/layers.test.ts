import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkLayers, findCycles } from "../../scripts/check-layers.mjs";

describe("the layer rules of SPEC §7 (scripts/check-layers.mjs)", () => {
  it("hold for src/: no import cycle (type-only imports included), no layer reaching where it must not, no file over 400 lines", () => {
    assert.deepEqual(checkLayers(), []);
  });

  it("find a cycle, type-only edges included, and leave a lazy import() out", () => {
    const edge = (to: string, extra: { dynamic?: boolean; typeOnly?: boolean } = {}) => ({ to, spec: to, dynamic: false, typeOnly: false, ...extra });
    const typeCycle = new Map([
      ["a.ts", [edge("b.ts", { typeOnly: true })]],
      ["b.ts", [edge("a.ts")]],
    ]);
    assert.deepEqual(findCycles(typeCycle), [["a.ts", "b.ts"]]);
    const lazy = new Map([
      ["a.ts", [edge("b.ts", { dynamic: true })]],
      ["b.ts", [edge("a.ts")]],
    ]);
    assert.deepEqual(findCycles(lazy), []);
  });
});

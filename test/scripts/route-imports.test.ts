import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { routeDynamicImports } from "../../scripts/route-imports.mjs";

describe("routeDynamicImports", () => {
  it("routes import() calls, literal or computed, through __bundleImport", () => {
    const code = 'async function f(name){const a=await import("oidc-provider");return import(`./${name}.js`)}';
    assert.equal(routeDynamicImports(code), 'async function f(name){const a=await __bundleImport("oidc-provider");return __bundleImport(`./${name}.js`)}');
  });

  it("leaves strings, templates, regular expressions and methods named import alone", () => {
    const code = 'var s="import(x)",t=`import(${1})`,r=/import\\(/;class A{async import(n){return this.import(n)}}';
    assert.equal(routeDynamicImports(code), code);
  });
});

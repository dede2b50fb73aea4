import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { JSONPath } from "jsonpath-plus";
import { jsonPathProblem } from "../../src/protocol/jsonpath.js";

/**
 * The JSONPath subset a config's `response` mapping may use: every accepted form means in
 * jsonpath-plus what it plainly says, and everything else is refused with a reason.
 */

const BODY = { data: { access_token: "at", "x y": 1, "a.b": 2, "a-b": 3, "é": 4 }, list: ["first", "second"], deep: { inner: { scope: "s" } } };

describe("JSONPath expressions in a config", () => {
  const accepted: Array<[string, unknown]> = [
    ["$", BODY],
    ["$.data.access_token", "at"],
    ["$['data']['access_token']", "at"],
    ['$["data"]["x y"]', 1],
    ["$.data['a.b']", 2],
    ["$.data.a-b", 3],
    ["$.data.é", 4],
    ["$.list[1]", "second"],
    ["$.list[*]", ["first", "second"]],
    ["$..scope", ["s"]],
    ["$..['scope']", ["s"]],
  ];
  for (const [path, value] of accepted) {
    it(`accepts ${path}, which jsonpath-plus reads as written`, () => {
      assert.equal(jsonPathProblem(path), undefined);
      assert.deepEqual(JSONPath({ path, json: BODY, wrap: false, eval: false }), value);
    });
  }

  const refused: Array<[string, RegExp]> = [
    ["data.access_token", /starting with \$/],
    ["$.[", /stuck at "\.\["/],
    ["$.data[", /stuck at "\["/],
    ["$.data.access_token]", /stuck at "\]"/],
    ["$.", /stuck/],
    ["$..", /stuck/],
    ["$.list[-1]", /stuck/],
    ["$.list[0:1]", /stuck/],
    ["$.list[0,1]", /stuck/],
    ["$['*']", /stuck/],
    ["$['$']", /stuck/],
    ["$.data^", /stuck/],
    ["$.data~", /stuck/],
    ["$.data.access_token@string()", /stuck/],
    ["$.list[?(@ == 'first')]", /not evaluated/],
    ["$.list[ ?(@ == 'first')]", /not evaluated/],
    ["$.list[(@.length-1)]", /not evaluated/],
  ];
  for (const [path, reason] of refused) {
    it(`refuses ${path}`, () => {
      assert.match(jsonPathProblem(path) ?? "(accepted)", reason);
    });
  }
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { listPresets } from "../../src/providers/registry.js";
import { cli } from "../support/cli.js";

describe("tokensmith providers", () => {
  it("lists every preset with its title and the variables it needs", async () => {
    const { code, stdout, stderr } = await cli(["providers"]);
    assert.equal(code, 0, stderr);
    for (const preset of listPresets()) assert.match(stdout, new RegExp(`^${preset.name} +${preset.title.replace(/[()]/g, "\\$&")}`, "m"));
    assert.match(stdout, /^shopify .*needs vars: shop/m);
    assert.match(stdout, /^keycloak .*needs vars: base_url, realm/m);
    assert.doesNotMatch(stdout, /^google .*needs vars/m);
  });

  it("shows one preset's endpoints, variables, quirks, notes and a config example", async () => {
    const { code, stdout } = await cli(["providers", "Shopify"]);
    assert.equal(code, 0);
    assert.match(stdout, /^shopify: Shopify Admin API$/m);
    assert.match(stdout, /token_url +https:\/\/\{shop\}\.myshopify\.com\/admin\/oauth\/access_token/);
    assert.match(stdout, /^ {2}shop +required$/m);
    assert.match(stdout, /scope_separator +","/);
    assert.match(stdout, /header +X-Shopify-Access-Token: \{token\}/);
    assert.match(stdout, /^ {2}- vars\.shop \(required\)/m);
    assert.match(stdout, /provider: shopify\n +vars: \{ shop: \.\.\. \}\n +client_id: \$\{env:SHOPIFY_CLIENT_ID\}/);
  });

  it("shows defaults of templated URLs and the quirks of refresh requests", async () => {
    const { stdout } = await cli(["providers", "microsoft"]);
    assert.match(stdout, /^ {2}tenant +default common$/m);
    assert.match(stdout, /refresh_params +scope=\{scopes\}/);
    assert.match(stdout, /authorization_code +scopes offline_access \(always requested\)/);
    assert.match(stdout, /client_credentials +scopes https:\/\/graph\.microsoft\.com\/\.default \(when none are set\)/);
  });

  it("prints one JSON document with --json, the variables included", async () => {
    const list = JSON.parse((await cli(["providers", "--json"])).stdout) as Array<{ name: string }>;
    assert.equal(list.length, listPresets().length);
    const reddit = JSON.parse((await cli(["providers", "reddit", "--json"])).stdout) as { name: string; client_auth: string; variables: unknown[] };
    assert.deepEqual([reddit.name, reddit.client_auth, reddit.variables], ["reddit", "basic", []]);
  });

  it("answers an unknown name with a suggestion and exit code 2", async () => {
    const { code, stdout, stderr } = await cli(["providers", "notoin"]);
    assert.equal(code, 2);
    assert.equal(stdout, "");
    assert.match(stderr, /unknown provider "notoin"/);
    assert.match(stderr, /did you mean notion\?/);
  });
});

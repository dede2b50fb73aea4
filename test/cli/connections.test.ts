import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { stringify } from "yaml";
import { cli } from "../support/cli.js";
import { tmpDir } from "../support/demo.js";

describe("tokensmith connections", () => {
  it("lists every connection with its grant, provider and token URL without needing any secret", async (t) => {
    const dir = await tmpDir(t);
    const path = join(dir, "tokensmith.yaml");
    await writeFile(
      path,
      stringify({
        connections: {
          billing: { token_url: "https://auth.example.com/token", client_id: "c", client_secret: "${env:TS_CONNECTIONS_TEST_UNSET}" },
          crm: { provider: "hubspot", client_id: "c", client_secret: "${file:missing-secret}" },
        },
      }),
    );
    const { code, stdout, stderr } = await cli(["connections", "--json", "--config", path]);
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), [
      { connection: "billing", name: "billing", grant: "client_credentials", provider: null, token_url: "https://auth.example.com/token" },
      { connection: "crm", name: "crm", grant: "authorization_code", provider: "hubspot", token_url: "https://api.hubapi.com/oauth/v3/token" },
    ]);
    const text = await cli(["connections", "--config", path]);
    assert.match(text.stdout, /^billing\tclient_credentials\thttps:\/\/auth\.example\.com\/token\ncrm\tauthorization_code\thubspot\t/);
  });

  it("still refuses a config that is wrong", async (t) => {
    const dir = await tmpDir(t);
    const path = join(dir, "tokensmith.yaml");
    await writeFile(path, stringify({ connections: { billing: { token_url: "https://auth.example.com/token", client_id: "c", client_secret: "s", grnt: "x" } } }));
    const { code, stderr } = await cli(["connections", "--config", path]);
    assert.equal(code, 2);
    assert.match(stderr, /connections\.billing\.grnt/);
  });
});

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { stringify } from "yaml";
import { cli, cliProcess, hasStackTrace } from "../support/cli.js";
import { tmpDir } from "../support/demo.js";
import { assertMatchesSchema, assertSnakeCase } from "../support/json-schema.js";

const SECRET = "token-cli-Secret-0123456789";

/** A token endpoint answering every request with `body(n)` (n counts requests from 1). */
async function tokenEndpoint(t: TestContext, body: (n: number) => Record<string, unknown> | string, status = 200): Promise<{ url: string; requests: () => number }> {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      n++;
      res.writeHead(status, { "content-type": "application/json" });
      const answer = body(n);
      res.end(typeof answer === "string" ? answer : JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/oauth/token`, requests: () => n };
}

async function writeConfig(t: TestContext, connection: Record<string, unknown>): Promise<string> {
  const dir = await tmpDir(t);
  const path = join(dir, "tokensmith.yaml");
  const billing = { grant: "client_credentials", client_id: "my-client", client_secret: SECRET, ...connection };
  await writeFile(path, stringify({ store: { type: "file", dir: join(dir, "state") }, connections: { billing } }));
  return path;
}

describe("tokensmith token", () => {
  it("prints the access token alone, and with --json the fields of SPEC §3", async (t) => {
    const server = await tokenEndpoint(t, (n) => ({
      access_token: `at-${n}`,
      token_type: "bearer",
      expires_in: 600,
      refresh_token: "rt-never-shown",
      id_token: "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
      instance_url: "https://na1.example.com",
    }));
    const path = await writeConfig(t, { token_url: server.url, scopes: ["invoices.read", "invoices.write"] });
    const plain = await cli(["token", "billing", "--config", path]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout, "at-1\n");

    const before = Math.floor(Date.now() / 1000);
    const { code, stdout } = await cli(["token", "billing", "--json", "--config", path]);
    assert.equal(code, 0);
    const doc = JSON.parse(stdout);
    assert.deepEqual(Object.keys(doc).sort(), ["access_token", "connection", "expires_at", "expires_in", "extra", "scope", "token_type"]);
    assertMatchesSchema("token", doc);
    assertSnakeCase(doc);
    assert.equal(doc.connection, "billing");
    assert.equal(doc.access_token, "at-1", "the cached token");
    assert.equal(doc.token_type, "Bearer");
    assert.ok(Number.isInteger(doc.expires_at) && Number.isInteger(doc.expires_in));
    assert.ok(doc.expires_in > 590 && doc.expires_in <= 600, String(doc.expires_in));
    assert.ok(Math.abs(doc.expires_at - (before + doc.expires_in)) <= 2);
    assert.equal(doc.scope, "invoices.read invoices.write", "the requested scopes, since the response had none");
    assert.deepEqual(doc.extra, { instance_url: "https://na1.example.com" });
    assert.equal(server.requests(), 1);
  });

  it("gives null expires_at and expires_in for a token without expiry", async (t) => {
    const server = await tokenEndpoint(t, () => ({ access_token: "forever", token_type: "Bearer", scope: "a b" }));
    const path = await writeConfig(t, { token_url: server.url, default_ttl: "never", scopes: "a" });
    const doc = JSON.parse((await cli(["token", "billing", "--json", "--config", path])).stdout);
    assert.equal(doc.expires_at, null);
    assert.equal(doc.expires_in, null);
    assert.equal(doc.scope, "a b", "the response's scope");
  });

  it("returns a fresh token with a warning when --min-ttl is longer than a token lives", async (t) => {
    const server = await tokenEndpoint(t, (n) => ({ access_token: `short-${n}`, expires_in: 60 }));
    const path = await writeConfig(t, { token_url: server.url });
    assert.equal((await cli(["token", "billing", "--config", path])).stdout, "short-1\n");
    const { code, stdout, stderr } = await cli(["token", "billing", "--min-ttl", "3600", "--config", path]);
    assert.equal(code, 0);
    assert.equal(stdout, "short-2\n");
    assert.match(stderr, /warning: .*60 s.*3600 s/);
    assert.equal(server.requests(), 2, "one refresh, no loop");
  });

  it("warns when --min-ttl is longer than a fresh token is usable, though shorter than its expires_in (SPEC §2.10)", async (t) => {
    // expires_in 2: usable for 2 - 1 (whole-second resolution) - 0.2 (skew) = 0.8 s.
    const server = await tokenEndpoint(t, (n) => ({ access_token: `brief-${n}`, expires_in: 2 }));
    const path = await writeConfig(t, { token_url: server.url });
    const { code, stdout, stderr } = await cli(["token", "billing", "--min-ttl", "1.5", "--config", path]);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, "brief-1\n");
    assert.match(stderr, /warning: .*usable for [01] s \(it lives 2 s\), less than the 1.5 s asked for/);
    assert.equal(server.requests(), 1, "no loop");
  });

  it("says what it got with --verbose without printing the token", async (t) => {
    const server = await tokenEndpoint(t, () => ({ access_token: "verbose-token-value", token_type: "Bearer", expires_in: 60 }));
    const path = await writeConfig(t, { token_url: server.url, scopes: ["x"] });
    const { stderr } = await cli(["token", "billing", "--verbose", "--config", path]);
    assert.match(stderr, /billing: a token of type Bearer, expires \d{4}-/);
    assert.ok(!stderr.includes("verbose-token-value"));
  });

  it("exits 3 with the JSON error on stdout when the server refuses", async (t) => {
    const server = await tokenEndpoint(t, () => ({ error: "invalid_client", error_description: "bad secret" }), 401);
    const path = await writeConfig(t, { token_url: server.url });
    const { code, stdout } = await cli(["token", "billing", "--json", "--config", path]);
    assert.equal(code, 3);
    const { error } = JSON.parse(stdout);
    assert.equal(error.code, "oauth_error");
    assert.equal(error.connection, "billing");
    assert.ok("message" in error && "hint" in error);
    assert.ok(!stdout.includes(SECRET));
  });

  it("exits 4 with network_error when the token endpoint cannot be reached", async (t) => {
    const server = await tokenEndpoint(t, () => ({}));
    const path = await writeConfig(t, { token_url: server.url.replace(/:\d+\//, ":1/") });
    const { code, stdout } = await cli(["token", "billing", "--json", "--config", path]);
    assert.equal(code, 4);
    assert.equal(JSON.parse(stdout).error.code, "network_error");
  });

  it("exits 4 with invalid_response, not a crash, for a token response nested 5,000 deep (SPEC §2.19)", async (t) => {
    const deep = `{"access_token":"deep-token","expires_in":60,"a":${"[".repeat(5000)}${"]".repeat(5000)}}`;
    const server = await tokenEndpoint(t, () => deep);
    const path = await writeConfig(t, { token_url: server.url });
    const json = await cli(["token", "billing", "--json", "--config", path]);
    assert.equal(json.code, 4, json.stdout + json.stderr);
    const { error } = JSON.parse(json.stdout);
    assert.equal(error.code, "invalid_response");
    assert.match(error.message, /nested more than 64 levels/);
    assert.ok(!json.stdout.includes("deep-token"));
    const plain = await cli(["token", "billing", "--config", path]);
    assert.equal(plain.code, 4);
    assert.ok(!hasStackTrace(plain.stderr) && !/call stack|this is a bug/i.test(plain.stderr), plain.stderr);
  });

  it("exits 4 with invalid_response when the fields besides the token exceed 16 KiB (SPEC §2.19)", async (t) => {
    const server = await tokenEndpoint(t, () => ({ access_token: "big-token", expires_in: 60, profile: "x".repeat(20_000) }));
    const path = await writeConfig(t, { token_url: server.url });
    const { code, stdout } = await cli(["token", "billing", "--json", "--config", path]);
    assert.equal(code, 4, stdout);
    assert.equal(JSON.parse(stdout).error.code, "invalid_response");
    assert.ok(!stdout.includes("big-token"));
  });
});

describe("tokensmith token and token types (SPEC §2.13)", () => {
  it("exits 4 naming the type for a DPoP token, and uses it when the connection's header says how", async (t) => {
    const server = await tokenEndpoint(t, (n) => ({ access_token: `dpop-${n}`, token_type: "DPoP", expires_in: 60 }));
    const path = await writeConfig(t, { token_url: server.url });
    const refused = await cli(["token", "billing", "--json", "--config", path]);
    assert.equal(refused.code, 4, refused.stdout);
    const { error } = JSON.parse(refused.stdout);
    assert.equal(error.code, "invalid_response");
    assert.match(error.message, /type "DPoP"/);
    assert.ok(!refused.stdout.includes("dpop-1"));
    const custom = await writeConfig(t, { token_url: server.url, header: { name: "Authorization", value: "DPoP {token}" } });
    assert.equal((await cli(["header", "billing", "--config", custom])).stdout, "Authorization: DPoP dpop-2\n");
  });

  it("takes bearer in any case, and a token without token_type, as Bearer", async (t) => {
    const server = await tokenEndpoint(t, (n) => (n === 1 ? { access_token: "lower-1", token_type: "bearer", expires_in: 60 } : { access_token: "none-2", expires_in: 60 }));
    const path = await writeConfig(t, { token_url: server.url });
    assert.equal(JSON.parse((await cli(["token", "billing", "--json", "--config", path])).stdout).token_type, "Bearer");
    assert.equal(JSON.parse((await cli(["token", "billing", "--json", "--force-refresh", "--config", path])).stdout).token_type, "Bearer");
  });
});

describe("tokensmith header", () => {
  it("prints the Authorization header by default, and the connection's own header when configured", async (t) => {
    const server = await tokenEndpoint(t, (n) => ({ access_token: `h-${n}`, expires_in: 60 }));
    const path = await writeConfig(t, { token_url: server.url });
    assert.equal((await cli(["header", "billing", "--config", path])).stdout, "Authorization: Bearer h-1\n");
    const custom = await writeConfig(t, { token_url: server.url, header: { name: "X-Shopify-Access-Token", value: "{token}" } });
    assert.equal((await cli(["header", "billing", "--config", custom])).stdout, "X-Shopify-Access-Token: h-2\n");
  });
});

describe("tokensmith token (the built binary)", () => {
  it("maps a nested response with JSONPath (a package the bundle loads on first use)", async (t) => {
    const server = await tokenEndpoint(t, () => ({ data: { tok: "nested-token", ttl: 600 } }));
    const config = await writeConfig(t, { token_url: server.url, response: { access_token: "$.data.tok", expires_in: "$.data.ttl" } });
    const result = await cliProcess(["token", "billing", "--json", "--config", config]);
    assert.equal(result.code, 0, result.stderr);
    const body = JSON.parse(result.stdout);
    assert.equal(body.access_token, "nested-token");
    assert.ok(body.expires_in > 590 && body.expires_in <= 600);
  });
});


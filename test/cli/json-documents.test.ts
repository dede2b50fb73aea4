import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { stringify } from "yaml";
import { demoConfig } from "../../src/demo/config.js";
import { PASSPHRASE_ENV } from "../../src/cli/passphrase.js";
import { cli } from "../support/cli.js";
import { tmpDir, withDemoServer } from "../support/demo.js";
import { assertDocument } from "../support/json-schema.js";

/**
 * SPEC §3: every `--json` document has snake_case keys, names its `connection`, and matches
 * its schema in docs/schemas. Real output: the CLI against the demo authorization server and
 * its API on loopback, with a file store.
 */

async function setup(t: TestContext) {
  const server = await withDemoServer(t);
  const dir = await tmpDir(t);
  const write = async (name: string, store: string, patch: (config: any) => void = () => {}) => {
    const config: any = demoConfig(server, { dir: join(dir, store) });
    config.connections["wrong-secret"] = { ...config.connections["demo-service"], client_id: "no-such-client", client_secret: "not-the-secret-0123456789" };
    patch(config);
    const path = join(dir, name);
    await writeFile(path, stringify(config), { mode: 0o600 });
    return path;
  };
  const path = await write("tokensmith.yaml", "store");
  /** Runs `tokensmith ARGS --json`: its exit code and its one document, parsed. */
  const json = async (args: string[], config = path) => {
    const run = await cli([...args, "--json", "--config", config]);
    assert.ok(run.stdout.trim(), `no document from ${args.join(" ")}: ${run.stderr}`);
    return { code: run.code, doc: JSON.parse(run.stdout), stderr: run.stderr };
  };
  return { server, dir, path, write, json };
}

describe("--json documents (SPEC §3)", () => {
  it("token, header, status, test, connections: snake_case, the connection named, each matching its schema", async (t) => {
    const { json } = await setup(t);
    const token = await json(["token", "demo-service"]);
    assert.equal(token.code, 0, token.stderr);
    assertDocument("token", token.doc);
    assert.equal(token.doc.connection, "demo-service");

    const header = await json(["header", "demo-service"]);
    assertDocument("header", header.doc);
    assert.deepEqual({ ...header.doc, value: header.doc.value.split(" ")[0] }, { connection: "demo-service", name: "Authorization", value: "Bearer" });

    const one = await json(["status", "demo-service"]);
    assertDocument("status", one.doc);
    assert.equal(one.doc.connection, "demo-service");
    assert.equal(one.doc.has_refresh_token, false);
    assert.equal(one.doc.token_requests, 1);
    assert.equal(one.doc.client_auth, "basic");
    assert.match(one.doc.expires_at, /^\d{4}-\d\d-\d\dT/);
    const all = await json(["status"]);
    assertDocument("status", all.doc);
    assert.deepEqual(all.doc.map((s: { connection: string }) => s.connection), ["demo-service", "demo-user", "demo-password", "demo-jwt", "wrong-secret"]);
    assert.ok(!JSON.stringify(all.doc).includes(token.doc.access_token), "status never shows a token");

    const tested = await json(["test", "demo-service"]);
    assert.equal(tested.code, 0, JSON.stringify(tested.doc));
    assertDocument("test", tested.doc);
    assert.equal(tested.doc.connection, "demo-service");
    const failed = await json(["test", "wrong-secret"]);
    assert.equal(failed.code, 3);
    assertDocument("test", failed.doc);
    assert.equal(failed.doc.error.code, "oauth_error");
    assert.equal(failed.doc.error.error, "invalid_client");

    const connections = await json(["connections"]);
    assertDocument("connections", connections.doc);
    assert.deepEqual(connections.doc[0], { connection: "demo-service", name: "demo-service", grant: "client_credentials", provider: null, token_url: connections.doc[0].token_url });
  });

  it("call: the response, the file it went to, and an HTTP error with the API's body kept", async (t) => {
    const { server, dir, json } = await setup(t);
    const ok = await json(["call", "demo-service", `${server.apiUrl}/whoami`]);
    assert.equal(ok.code, 0, ok.stderr);
    assertDocument("call", ok.doc);
    assert.equal(ok.doc.connection, "demo-service");
    assert.equal(ok.doc.status, 200);
    assert.equal(typeof ok.doc.body, "object", "a JSON body is parsed");

    const file = join(dir, "whoami.json");
    const saved = await json(["call", "demo-service", `${server.apiUrl}/whoami`, "-o", file]);
    assertDocument("call", saved.doc);
    assert.equal(saved.doc.output, file);

    const missing = await json(["call", "demo-service", `${server.apiUrl}/no-such-route`]);
    assert.equal(missing.code, 5);
    assertDocument("call", missing.doc);
    assert.equal(missing.doc.error.code, "http_error");
    assert.equal(missing.doc.error.connection, "demo-service");
    assert.equal(missing.doc.status, 404);
    assert.deepEqual(missing.doc.body, { error: "not_found" }, "the API's own answer is kept beside the error");
  });

  it("export (to stdout and to a file), import, logout, and an error", async (t) => {
    const { dir, path, write, json } = await setup(t);
    const saved = process.env[PASSPHRASE_ENV];
    process.env[PASSPHRASE_ENV] = "a long passphrase for the json documents test";
    t.after(() => (saved === undefined ? delete process.env[PASSPHRASE_ENV] : (process.env[PASSPHRASE_ENV] = saved)));
    assert.equal((await json(["token", "demo-password"])).code, 0);

    const bundle = await json(["export", "demo-password", "--copy"]);
    assert.equal(bundle.code, 0, bundle.stderr);
    assertDocument("export", bundle.doc);
    const file = join(dir, "login.bundle");
    const moved = await json(["export", "demo-password", "-o", file]);
    assertDocument("export", moved.doc);
    assert.deepEqual(moved.doc, { connection: "demo-password", file, moved: true });

    const other = await write("other.yaml", "other-store");
    const imported = await json(["import", "demo-password", file], other);
    assert.equal(imported.code, 0, imported.stderr);
    assertDocument("import", imported.doc);
    assert.equal(imported.doc.connection, "demo-password");
    assert.equal(imported.doc.has_refresh_token, true);

    const logout = await json(["logout", "demo-password"], other);
    assertDocument("logout", logout.doc);
    assert.deepEqual(logout.doc, { connection: "demo-password", logged_out: true });

    const unknown = await json(["token", "no-such-connection"], path);
    assert.equal(unknown.code, 2);
    assertDocument("error", unknown.doc);
    assert.equal(unknown.doc.error.connection, "no-such-connection");
  });

  it("providers: the list and one preset, under the config's own field names", async () => {
    const list = JSON.parse((await cli(["providers", "--json"])).stdout);
    assertDocument("providers", list);
    const entra = JSON.parse((await cli(["providers", "microsoft", "--json"])).stdout);
    assertDocument("provider", entra);
    assert.match(entra.issuer_template, /^https:\/\/login\.microsoftonline\.com\//);
  });
});

import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { stringify } from "yaml";
import { cli, hasStackTrace } from "../support/cli.js";
import { tmpDir } from "../support/demo.js";

const SECRET = "s3cr3t-Value+/=&%:é-0123456789";

/** A token endpoint that answers every request with `handler`. */
async function tokenEndpoint(t: TestContext, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/oauth/token`;
}

async function writeConfig(t: TestContext, config: unknown): Promise<string> {
  const dir = await tmpDir(t);
  const path = join(dir, "tokensmith.yaml");
  await writeFile(path, typeof config === "string" ? config : stringify(config));
  return path;
}

const base = (tokenUrl = "https://auth.example.com/token") => ({
  grant: "client_credentials",
  token_url: tokenUrl,
  client_id: "my-client",
  client_secret: SECRET,
});

/** A "billion laughs": 7 levels of 9 aliases each, some 4.8 million nodes once expanded. */
const ALIAS_BOMB = ["a", "b", "c", "d", "e", "f", "g"]
  .map((name, i, names) => `${name}: &${name} [${Array(9).fill(i ? `*${names[i - 1]}` : '"lol"').join(", ")}]`)
  .join("\n");

/** [title, config, field named in the message]. */
const BROKEN_CONFIGS: Array<[string, unknown, string]> = [
  ["an unknown connection field", { connections: { billing: { ...base(), tokn_url: "x" } } }, "connections.billing.tokn_url"],
  ["an unknown grant", { connections: { billing: { ...base(), grant: "implicit" } } }, "connections.billing.grant"],
  ["a token_url that is not a URL", { connections: { billing: { ...base(), token_url: "not a url" } } }, "connections.billing.token_url"],
  ["a plain-http token_url on another host", { connections: { billing: base("http://auth.example.com/token") } }, "connections.billing.token_url"],
  ["an ftp token_url", { connections: { billing: base("ftp://auth.example.com/token") } }, "connections.billing.token_url"],
  ["no token_url and no issuer", { connections: { billing: { grant: "client_credentials", client_id: "x", client_secret: SECRET } } }, "connections.billing"],
  ["scopes of the wrong type", { connections: { billing: { ...base(), scopes: 42 } } }, "connections.billing.scopes"],
  ["a bad duration", { connections: { billing: { ...base(), timeout: "soon" } } }, "connections.billing.timeout"],
  ["a bad default_ttl", { connections: { billing: { ...base(), default_ttl: "forever" } } }, "connections.billing.default_ttl"],
  ["an unknown client_auth", { connections: { billing: { ...base(), client_auth: "magic" } } }, "connections.billing.client_auth"],
  ["an unknown pkce", { connections: { billing: { ...base(), pkce: "S512" } } }, "connections.billing.pkce"],
  ["an unknown cache mode", { connections: { billing: { ...base(), cache: "disk" } } }, "connections.billing.cache"],
  ["cache none with a refresh-token grant", { connections: { billing: { ...base(), grant: "password", username: "u", password: SECRET, cache: "none" } } }, "connections.billing.cache"],
  ["password grant without a password", { connections: { billing: { ...base(), grant: "password", username: "u" } } }, "connections.billing.password"],
  ["jwt_bearer without a key", { connections: { billing: { ...base(), grant: "jwt_bearer", assertion: { sub: "x" } } } }, "connections.billing"],
  ["an unknown provider", { connections: { billing: { provider: "gogle", client_id: "x", client_secret: SECRET } } }, "connections.billing.provider"],
  ["an unknown store type", { store: { type: "mongo" }, connections: { billing: base() } }, "store.type"],
  ["a store key that is not 32 bytes", { store: { type: "file", key: "c2hvcnQ=" }, connections: { billing: base() } }, "store.key"],
  ["a top-level typo", { conections: { billing: base() } }, "conections"],
  ["a bad connection name", { connections: { "bill ing": base() } }, "connections"],
  ["a token_headers value that is not a string", { connections: { billing: { ...base(), token_headers: { "X-A": { b: 1 } } } } }, "connections.billing.token_headers"],
  ["an unknown token_body", { connections: { billing: { ...base(), token_body: "xml" } } }, "connections.billing.token_body"],
  ["a response mapping key that is unknown", { connections: { billing: { ...base(), response: { acess_token: "$.a" } } } }, "connections.billing.response"],
  ["YAML that does not parse", "connections:\n  billing: [unclosed\n", "tokensmith.yaml"],
  ["a YAML alias bomb", `${ALIAS_BOMB}\nconnections: {}\n`, "tokensmith.yaml"],
  ["a response JSONPath that does not parse", { connections: { billing: { ...base(), response: { access_token: "$.[" } } } }, "connections.billing.response.access_token"],
  ["a response JSONPath with a filter expression", { connections: { billing: { ...base(), response: { access_token: "$.tokens[?(@.kind=='at')].value" } } } }, "connections.billing.response.access_token"],
];

describe("bad input on the command line", () => {
  for (const [title, config, field] of BROKEN_CONFIGS) {
    it(`reports ${title} with the field, exit code 2, no stack trace and no secret`, async (t) => {
      const path = await writeConfig(t, config);
      const { code, stdout, stderr } = await cli(["token", "billing", "--config", path]);
      assert.equal(code, 2, stderr);
      assert.ok(stderr.includes(field), `stderr names ${field}: ${stderr}`);
      assert.equal(stdout, "");
      assert.ok(!hasStackTrace(stderr), stderr);
      assert.ok(!stderr.includes(SECRET) && !stderr.includes(encodeURIComponent(SECRET)));
    });
  }

  it("refuses a broken response JSONPath at load, before any token request", async (t) => {
    let requests = 0;
    const url = await tokenEndpoint(t, (_req, res) => {
      requests++;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ access_token: "at", token_type: "Bearer" }));
    });
    const path = await writeConfig(t, { connections: { billing: { ...base(url), response: { access_token: "$.[" } } } });
    const { code, stdout } = await cli(["token", "billing", "--json", "--config", path]);
    assert.equal(code, 2);
    const { error } = JSON.parse(stdout);
    assert.equal(error.code, "config_invalid");
    assert.equal(error.field, "connections.billing.response.access_token");
    assert.equal(requests, 0);
  });

  it("reports a missing ${env:} variable naming the field and the variable", async (t) => {
    const path = await writeConfig(t, { connections: { billing: { ...base(), client_secret: "${env:TS_TEST_NOPE}" } } });
    const { code, stderr } = await cli(["token", "billing", "--config", path]);
    assert.equal(code, 2);
    assert.match(stderr, /connections\.billing\.client_secret/);
    assert.match(stderr, /TS_TEST_NOPE/);
  });

  it("gives a JSON error document on stdout with --json", async (t) => {
    const path = await writeConfig(t, { connections: { billing: { ...base(), grant: "implicit" } } });
    const { code, stdout } = await cli(["token", "billing", "--json", "--config", path]);
    assert.equal(code, 2);
    const doc = JSON.parse(stdout);
    assert.equal(doc.error.code, "config_invalid");
    assert.ok("message" in doc.error && "hint" in doc.error && "connection" in doc.error);
  });

  it("treats an unknown command or flag as a usage error (exit 2)", async () => {
    assert.equal((await cli(["tokn"])).code, 2);
    assert.equal((await cli(["token", "x", "--min-tll", "5"])).code, 2);
    const json = await cli(["token", "--json"]);
    assert.equal(json.code, 2);
    assert.equal(JSON.parse(json.stdout).error.code, "usage_error");
  });

  it("treats a missing command as a usage error (exit 2), and --help and --version as success", async () => {
    const none = await cli([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /Usage: tokensmith/);
    const json = await cli(["--json"]);
    assert.equal(json.code, 2);
    assert.equal(JSON.parse(json.stdout).error.code, "usage_error");
    assert.equal((await cli(["--help"])).code, 0);
    assert.equal((await cli(["help", "token"])).code, 0);
    assert.equal((await cli(["--version"])).code, 0);
  });

  it("names an unknown connection and lists the configured ones", async (t) => {
    const path = await writeConfig(t, { connections: { billing: base() } });
    const { code, stderr } = await cli(["token", "billling", "--config", path]);
    assert.equal(code, 2);
    assert.match(stderr, /billling/);
    assert.match(stderr, /billing/);
    const json = JSON.parse((await cli(["token", "billling", "--config", path, "--json"])).stdout);
    assert.equal(json.error.connection, "billling");
  });

  it("tells a connection whose redirect URI is not on this machine to log in with --manual", async (t) => {
    const web = { grant: "authorization_code", authorization_url: "https://auth.example.com/authorize", token_url: "https://auth.example.com/token", client_id: "web" };
    const path = await writeConfig(t, {
      store: { type: "memory" },
      connections: { web, remote: { ...web, redirect_uri: "https://app.example.com/oauth/callback" } },
    });
    const local = JSON.parse((await cli(["token", "web", "--config", path, "--json"])).stdout);
    assert.match(local.error.hint, /`tokensmith login web`/);
    const remote = await cli(["token", "remote", "--config", path, "--json"]);
    assert.equal(remote.code, 3);
    assert.match(JSON.parse(remote.stdout).error.hint, /`tokensmith login remote --manual`/);
  });

  it("test on a user connection that never logged in says so, rather than 'no longer accepted'", async (t) => {
    const path = await writeConfig(t, {
      store: { type: "memory" },
      connections: { web: { grant: "authorization_code", authorization_url: "https://auth.example.com/authorize", token_url: "https://auth.example.com/token", client_id: "web" } },
    });
    const { code, stdout } = await cli(["test", "web", "--config", path, "--json"]);
    assert.equal(code, 3);
    const diagnosis = JSON.parse(stdout);
    assert.match(diagnosis.cause, /no login has been made yet/);
    assert.equal(diagnosis.error.code, "reauthorization_required");
  });
});

/** [title, status, headers, body, exit code, error code]. */
const BROKEN_RESPONSES: Array<[string, number, Record<string, string>, string, number, string]> = [
  ["invalid_client", 401, { "content-type": "application/json" }, '{"error":"invalid_client"}', 3, "oauth_error"],
  ["invalid_scope", 400, { "content-type": "application/json" }, '{"error":"invalid_scope","error_description":"nope"}', 3, "oauth_error"],
  ["unauthorized_client", 400, { "content-type": "application/json" }, '{"error":"unauthorized_client"}', 3, "oauth_error"],
  ["a 200 carrying an error", 200, { "content-type": "application/json" }, '{"error":"invalid_request"}', 3, "oauth_error"],
  ["Slack's ok:false", 200, { "content-type": "application/json" }, '{"ok":false,"error":"invalid_code"}', 3, "oauth_error"],
  ["an HTML 500 page", 500, { "content-type": "text/html" }, "<html><body>Internal error</body></html>", 4, "invalid_response"],
  ["an HTML 200 login page", 200, { "content-type": "text/html" }, "<html>please log in</html>", 4, "invalid_response"],
  ["a 200 without access_token", 200, { "content-type": "application/json" }, '{"token_type":"Bearer"}', 4, "invalid_response"],
  ["an empty 200", 200, { "content-type": "application/json" }, "", 4, "invalid_response"],
  ["a JSON array", 200, { "content-type": "application/json" }, "[1,2]", 4, "invalid_response"],
  ["truncated JSON", 200, { "content-type": "application/json" }, '{"access_token":"abc', 4, "invalid_response"],
  ["a negative expires_in", 200, { "content-type": "application/json" }, '{"access_token":"tok-abcdef","token_type":"Bearer","expires_in":-5}', 4, "invalid_response"],
  ["a non-numeric expires_in", 200, { "content-type": "application/json" }, '{"access_token":"tok-abcdef","token_type":"Bearer","expires_in":"soon"}', 4, "invalid_response"],
  ["a numeric access_token", 200, { "content-type": "application/json" }, '{"access_token":12345,"token_type":"Bearer"}', 4, "invalid_response"],
  ["a redirect", 302, { location: "https://elsewhere.example.com/" }, "", 4, "invalid_response"],
  ["a 404", 404, { "content-type": "text/plain" }, "not found", 4, "invalid_response"],
];

describe("broken token responses on the command line", () => {
  for (const [title, status, headers, body, exit, code] of BROKEN_RESPONSES) {
    it(`turns ${title} into ${code} with exit code ${exit}, naming the URL`, async (t) => {
      const url = await tokenEndpoint(t, (_req, res) => {
        res.writeHead(status, headers);
        res.end(body);
      });
      const path = await writeConfig(t, { store: { type: "memory" }, connections: { billing: { ...base(url), timeout: "2s" } } });
      const result = await cli(["token", "billing", "--json", "--config", path]);
      assert.equal(result.code, exit, result.stdout + result.stderr);
      const doc = JSON.parse(result.stdout);
      assert.equal(doc.error.code, code);
      assert.ok(doc.error.message.includes("/oauth/token"), doc.error.message);
      assert.ok(!result.stdout.includes(SECRET) && !result.stderr.includes(SECRET));
      assert.ok(!result.stdout.includes("tok-abcdef"));
    });
  }

  it("reports a dead server as network_error with exit code 4", async (t) => {
    const path = await writeConfig(t, { store: { type: "memory" }, connections: { billing: base("http://127.0.0.1:9/token") } });
    const result = await cli(["token", "billing", "--config", path]);
    assert.equal(result.code, 4, result.stderr);
    assert.match(result.stderr, /127\.0\.0\.1:9/);
    assert.ok(!hasStackTrace(result.stderr));
  });
});

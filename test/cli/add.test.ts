import assert from "node:assert/strict";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { parse } from "yaml";
import { cliProcess, hasStackTrace } from "../support/cli.js";
import { tmpDir, withDemoServer } from "../support/demo.js";
import { assertMatchesSchema, assertSnakeCase } from "../support/json-schema.js";

/**
 * `tokensmith add` with flags, as a script runs it (SPEC §3, issue 13 item 3): the built binary
 * in a folder of its own, with its own state and XDG folders. The terminal flow is in
 * add-terminal.test.ts.
 */

async function folder(t: TestContext): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const dir = await tmpDir(t);
  return { dir, env: { XDG_STATE_HOME: join(dir, ".state"), XDG_CONFIG_HOME: join(dir, ".xdg") } };
}

const mode = async (path: string) => (await stat(path)).mode & 0o777;

/** The files in the folder, but the state folder: nothing else (no temporary file) is left behind. */
const files = async (dir: string) => (await readdir(dir)).filter((name) => name !== ".state").sort();

const EXISTING = `# Our team's connections. Keep this comment.
store:
  type: file   # tokens on disk

connections:
  # billing first: the oldest
  billing:
    grant: client_credentials
    token_url: https://auth.example.com/oauth/token   # prod
    client_id: billing-client
    client_secret: \${env:BILLING_SECRET}
  reports:
    provider: hubspot
    client_id: \${env:HUB_ID}
    client_secret: \${env:HUB_SECRET}

gateway:
  port: 7373 # the default
`;

describe("tokensmith add with flags", () => {
  it("creates ./tokensmith.yaml from nothing, 0600 and trusted, with the secret as an env reference", async (t) => {
    const { dir, env } = await folder(t);
    const res = await cliProcess(["add", "hub", "--provider", "hubspot", "--client-id", "my-client", "--secret-env", "HUB_SECRET", "--scopes", "crm.objects.contacts.read,crm.schemas.read"], { cwd: dir, env });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /created .*tokensmith\.yaml: connection "hub"/);
    assert.match(res.stdout, /tokensmith login hub\n {2}tokensmith test hub/);
    const path = join(dir, "tokensmith.yaml");
    assert.equal(await mode(path), 0o600);
    assert.deepEqual(parse(await readFile(path, "utf8")).connections, {
      hub: { provider: "hubspot", client_id: "my-client", client_secret: "${env:HUB_SECRET}", scopes: ["crm.objects.contacts.read", "crm.schemas.read"] },
    });
    // Written by tokensmith for this user: trusted at once, so every command in the folder uses it.
    const listed = await cliProcess(["connections"], { cwd: dir, env });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^hub\tauthorization_code\thubspot/m);
  });

  it("with --json prints what it wrote and what to run next as one document", async (t) => {
    const { dir, env } = await folder(t);
    const res = await cliProcess(["add", "svc", "--token-url", "https://login.example.org/token", "--client-id", "svc-id", "--secret-env", "SVC_SECRET", "--json"], { cwd: dir, env });
    assert.equal(res.code, 0, res.stderr);
    const doc = JSON.parse(res.stdout);
    assertMatchesSchema("add", doc);
    assertSnakeCase(doc);
    assert.deepEqual(doc, { connection: "svc", config: join(dir, "tokensmith.yaml"), created: true, grant: "client_credentials", next: ["tokensmith test svc"] });
  });

  it("adds to an existing config keeping every comment, the order and the formatting; stays trusted", async (t) => {
    const { dir, env } = await folder(t);
    const path = join(dir, "tokensmith.yaml");
    await writeFile(path, EXISTING, { mode: 0o600 });
    assert.equal((await cliProcess(["trust"], { cwd: dir, env })).code, 0);
    const res = await cliProcess(["add", "crm", "--token-url", "https://login.example.org/token", "--grant", "client_credentials", "--client-id", "crm-id", "--secret-env", "CRM_SECRET", "--scopes", "read write"], { cwd: dir, env });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /updated .*: connection "crm"/);
    const added = [
      "  crm:",
      "    token_url: https://login.example.org/token",
      "    grant: client_credentials",
      "    client_id: crm-id",
      "    client_secret: ${env:CRM_SECRET}",
      "    scopes: [ read, write ]",
      "",
    ].join("\n");
    const at = EXISTING.indexOf("\ngateway:");
    assert.equal(await readFile(path, "utf8"), `${EXISTING.slice(0, at)}${added}${EXISTING.slice(at)}`);
    assert.equal(await mode(path), 0o600);
    const listed = await cliProcess(["connections"], { cwd: dir, env });
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(listed.stdout.trim().split("\n").map((line) => line.split("\t")[0]), ["billing", "reports", "crm"]);
  });

  it("an untrusted working-folder config stays untrusted after the edit", async (t) => {
    const { dir, env } = await folder(t);
    const path = join(dir, "tokensmith.yaml");
    await writeFile(path, EXISTING, { mode: 0o600 });
    const res = await cliProcess(["add", "crm", "--provider", "hubspot", "--client-id", "c"], { cwd: dir, env });
    assert.equal(res.code, 0, res.stderr);
    assert.ok((await readFile(path, "utf8")).startsWith(EXISTING.slice(0, EXISTING.indexOf("\ngateway:"))));
    const listed = await cliProcess(["connections"], { cwd: dir, env });
    assert.equal(listed.code, 2);
    assert.match(listed.stderr, /is not trusted yet/);
  });

  it("--secret-file writes the secret from standard input to a 0600 file the config references", async (t) => {
    const { dir, env } = await folder(t);
    const secret = "s3cr3t-from-the-pipe";
    const res = await cliProcess(["add", "svc", "--token-url", "https://auth.example.com/token", "--client-id", "svc-id", "--secret-file", "svc.secret"], { cwd: dir, env, stdin: `${secret}\n` });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(await readFile(join(dir, "svc.secret"), "utf8"), `${secret}\n`);
    assert.equal(await mode(join(dir, "svc.secret")), 0o600);
    const text = await readFile(join(dir, "tokensmith.yaml"), "utf8");
    assert.equal(parse(text).connections.svc.client_secret, "${file:svc.secret}");
    assert.ok(!text.includes(secret) && !res.stdout.includes(secret) && !res.stderr.includes(secret));
    // An existing file is referenced as it is, nothing read from stdin.
    const again = await cliProcess(["add", "svc2", "--token-url", "https://auth.example.com/token", "--client-id", "svc-id", "--secret-file", join(dir, "svc.secret")], { cwd: dir, env });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(parse(await readFile(join(dir, "tokensmith.yaml"), "utf8")).connections.svc2.client_secret, "${file:svc.secret}");
  });

  it("refuses to replace a connection unless --force", async (t) => {
    const { dir, env } = await folder(t);
    const path = join(dir, "tokensmith.yaml");
    await writeFile(path, EXISTING, { mode: 0o600 });
    const res = await cliProcess(["--config", path, "add", "billing", "--provider", "xero", "--client-id", "x"], { cwd: dir, env });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /connection "billing" already exists in .*tokensmith\.yaml\n {2}hint: .*--force/);
    assert.equal(await readFile(path, "utf8"), EXISTING);
    const forced = await cliProcess(["--config", path, "add", "billing", "--provider", "xero", "--client-id", "x", "--force"], { cwd: dir, env });
    assert.equal(forced.code, 0, forced.stderr);
    const after = await readFile(path, "utf8");
    assert.deepEqual(parse(after).connections.billing, { provider: "xero", client_id: "x" });
    assert.ok(after.startsWith("# Our team's connections. Keep this comment.\nstore:\n  type: file   # tokens on disk\n"));
  });

  it("invalid input: exit 2 naming the flag or field, and nothing written", async (t) => {
    const { dir, env } = await folder(t);
    const path = join(dir, "tokensmith.yaml");
    const cases: Array<[string[], RegExp]> = [
      [["add", "x", "--provider", "hubspot"], /missing --client-id/],
      [["add", "--provider", "hubspot", "--client-id", "a"], /missing the connection name/],
      [["add", "x", "--client-id", "a"], /missing --provider \(or --token-url/],
      [["add", "x", "--provider", "hubspott", "--client-id", "a"], /--provider: unknown provider "hubspott"\n {2}hint: did you mean hubspot\?/],
      [["add", "x", "--provider", "okta", "--client-id", "a"], /missing --var domain=VALUE \(provider okta needs domain\)/],
      [["add", "x", "--provider", "hubspot", "--client-id", "a", "--grant", "magic"], /--grant: unknown grant "magic"/],
      [["add", "x", "--provider", "hubspot", "--client-id", "a", "--secret-env", "NOT-A-NAME"], /--secret-env: "NOT-A-NAME" is not an environment variable name/],
      [["add", "x", "--provider", "hubspot", "--client-id", "a", "--secret-env", "A", "--secret-file", "f"], /--secret-env and --secret-file both given/],
      [["add", "x", "--provider", "hubspot", "--client-id", "a", "--secret-file", "new.secret"], /--secret-file: .*new\.secret does not exist and no secret came on standard input/],
      [["add", "bad name", "--provider", "hubspot", "--client-id", "a"], /invalid connection name "bad name"/],
      // Refused by the loader every command uses: the config is validated before it is written.
      [["add", "x", "--token-url", "http://auth.example.com/token", "--client-id", "a"], /connections\.x\.token_url: plain http is refused .*\(nothing was written\)\n.*config file: .*\/tokensmith\.yaml\)/],
      [["add", "x", "--token-url", "https://auth.example.com/token", "--client-id", "a", "--grant", "password"], /connections\.x.*username/],
    ];
    for (const [args, message] of cases) {
      const res = await cliProcess(args, { cwd: dir, env });
      assert.equal(res.code, 2, `${args.join(" ")}: ${res.stderr}`);
      assert.match(res.stderr, message);
      assert.ok(!hasStackTrace(res.stderr), res.stderr);
      assert.deepEqual(await files(dir), [], args.join(" "));
    }
    // The same on an existing config: not one byte changes, no temporary file is left.
    await writeFile(path, EXISTING, { mode: 0o600 });
    const res = await cliProcess(["--config", path, "add", "x", "--token-url", "http://auth.example.com/token", "--client-id", "a"], { cwd: dir, env });
    assert.equal(res.code, 2);
    assert.equal(await readFile(path, "utf8"), EXISTING);
    assert.deepEqual(await files(dir), ["tokensmith.yaml"]);
  });

  it("writes a connection that works: tokensmith test against the demo server", async (t) => {
    const server = await withDemoServer(t);
    const { dir, env } = await folder(t);
    const client = server.clients.basic;
    const res = await cliProcess(["add", "demo-cc", "--token-url", server.endpoints.token, "--grant", "client_credentials", "--client-id", client.clientId, "--secret-env", "DEMO_SECRET"], { cwd: dir, env });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /next:\n {2}tokensmith test demo-cc\n$/);
    const tested = await cliProcess(["test", "demo-cc"], { cwd: dir, env: { ...env, DEMO_SECRET: client.clientSecret } });
    assert.equal(tested.code, 0, tested.stdout + tested.stderr);
    const token = await cliProcess(["token", "demo-cc"], { cwd: dir, env: { ...env, DEMO_SECRET: client.clientSecret } });
    assert.equal(token.code, 0, token.stderr);
    assert.ok(token.stdout.trim().length > 10);
  });

  it("--json: one document naming the connection, the config and the commands to run next", async (t) => {
    const { dir, env } = await folder(t);
    const res = await cliProcess(["--json", "add", "hub", "--provider", "hubspot", "--client-id", "c", "--grant", "authorization_code"], { cwd: dir, env });
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(JSON.parse(res.stdout), {
      connection: "hub",
      config: join(dir, "tokensmith.yaml"),
      created: true,
      grant: "authorization_code",
      next: ["tokensmith login hub", "tokensmith test hub"],
    });
  });
});

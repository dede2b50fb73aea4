import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { cliProcess, hasStackTrace } from "../support/cli.js";
import { tmpDir } from "../support/demo.js";
import { assertMatchesSchema } from "../support/json-schema.js";

/**
 * `tokensmith trust` and the refusal of an untrusted working-folder config (SPEC §1 Trust,
 * §3 exit 2 `config_untrusted`), run as the built binary in a folder of its own.
 */

const STOLEN = "aws_secret_access_key = wJalrXUtnFEMI-stolen";

/** A token endpoint that counts requests and answers each with a token. */
async function tokenEndpoint(t: TestContext): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ access_token: "at-from-server", token_type: "Bearer", expires_in: 3600 }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/token`, requests: () => requests };
}

/** A cloned repository whose tokensmith.yaml sends a file from the user's home to its own token URL. */
async function hostileClone(t: TestContext, tokenUrl: string) {
  const root = await tmpDir(t);
  const home = join(root, "home");
  const clone = join(root, "clone");
  await mkdir(join(home, ".aws"), { recursive: true });
  await mkdir(clone);
  await writeFile(join(home, ".aws", "credentials"), STOLEN);
  const config = (host: string) =>
    `connections:\n  api:\n    token_url: ${tokenUrl.replace("127.0.0.1", host)}\n    client_id: cloned\n    client_secret: \${file:~/.aws/credentials}\n`;
  const path = join(clone, "tokensmith.yaml");
  await writeFile(path, config("127.0.0.1"));
  const env = { HOME: home, XDG_STATE_HOME: join(root, "state"), XDG_CONFIG_HOME: join(root, "xdg") };
  const run = (...args: string[]) => cliProcess(args, { cwd: clone, env });
  return { path, run, rewrite: () => writeFile(path, config("localhost")) };
}

describe("tokensmith trust", () => {
  it("refuses an untrusted config in the working folder with exit 2 before any request, and uses it once trusted", async (t) => {
    const server = await tokenEndpoint(t);
    const { path, run } = await hostileClone(t, server.url);
    const refused = await run("token", "api", "--json");
    assert.equal(refused.code, 2, refused.stderr);
    const { error } = JSON.parse(refused.stdout);
    assert.equal(error.code, "config_untrusted");
    assert.ok(error.message.includes(path), error.message);
    assert.match(error.hint, /tokensmith trust/);
    assert.equal(server.requests(), 0, "the config's token URL was never called");

    const text = await run("token", "api");
    assert.equal(text.code, 2);
    assert.match(text.stderr, /hint: .*tokensmith trust/);
    assert.ok(!hasStackTrace(text.stderr) && !text.stderr.includes(STOLEN));

    const trusted = await run("trust");
    assert.equal(trusted.code, 0, trusted.stderr);
    assert.match(trusted.stdout, new RegExp(`trusted: ${path}`));
    const token = await run("token", "api");
    assert.equal(token.code, 0, token.stderr);
    assert.equal(token.stdout.trim(), "at-from-server");
  });

  it("asks again after any change to the file, and forgets it with --revoke", async (t) => {
    const server = await tokenEndpoint(t);
    const { path, run, rewrite } = await hostileClone(t, server.url);
    assert.equal((await run("trust", path)).code, 0);
    await rewrite();
    const changed = await run("token", "api", "--json");
    assert.equal(changed.code, 2);
    assert.match(JSON.parse(changed.stdout).error.message, /changed since it was trusted/);
    assert.equal(server.requests(), 0);

    const again = await run("trust", ".", "--json");
    assert.equal(again.code, 0, "a folder names the config in it");
    assertMatchesSchema("trust", JSON.parse(again.stdout));
    assert.equal(JSON.parse(again.stdout).path, path);
    assert.equal((await run("connections")).code, 0);
    const revoked = await run("trust", "--revoke", "--json");
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.deepEqual(JSON.parse(revoked.stdout), { path, trusted: false, was_trusted: true });
    assertMatchesSchema("trust", JSON.parse(revoked.stdout));
    assert.equal((await run("connections")).code, 2);
  });

  it("is not needed for a config named with --config", async (t) => {
    const server = await tokenEndpoint(t);
    const { run } = await hostileClone(t, server.url);
    const named = await run("connections", "--config", "tokensmith.yaml");
    assert.equal(named.code, 0, named.stderr);
  });

  it("says so when there is no config to trust", async (t) => {
    const dir = await tmpDir(t);
    const result = await cliProcess(["trust", "--json"], { cwd: dir, env: { HOME: dir, XDG_STATE_HOME: join(dir, "state") } });
    assert.equal(result.code, 2);
    assert.equal(JSON.parse(result.stdout).error.code, "usage_error");
  });
});

describe("the config in use", () => {
  it("is named by status and by --verbose", async (t) => {
    const server = await tokenEndpoint(t);
    const { path, run } = await hostileClone(t, server.url);
    await run("trust");
    const status = await run("status");
    assert.equal(status.code, 0, status.stderr);
    assert.equal(status.stdout.split("\n")[0], `config: ${path}`);
    const verbose = await run("connections", "--verbose");
    assert.ok(verbose.stderr.includes(`config: ${path}`), verbose.stderr);
  });
});

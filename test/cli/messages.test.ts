import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { stringify } from "yaml";
import { BIN, cli } from "../support/cli.js";
import { tmpDir } from "../support/demo.js";

/** Issue 13 item 9: messages that say what happened. */
async function writeConfig(t: TestContext, connections: Record<string, unknown>): Promise<string> {
  const dir = await tmpDir(t);
  const path = join(dir, "tokensmith.yaml");
  await writeFile(path, stringify({ store: { type: "file", dir: join(dir, "state") }, connections }));
  return path;
}

const user = { grant: "authorization_code", authorization_url: "https://auth.example.com/authorize", token_url: "https://auth.example.com/token", client_id: "crm-client" };
// Port 1 on loopback: refused at once, so `token` fails fast after its warning.
const legacy = { grant: "password", token_url: "http://127.0.0.1:1/token", client_id: "legacy", username: "u", password: "legacy-Password-0123456789" };

describe("messages", () => {
  it('says "no tokens yet" only when there never were any; after a logout, which and when', async (t) => {
    const path = await writeConfig(t, { crm: user });
    const never = await cli(["token", "crm", "--config", path]);
    assert.match(never.stderr, /connection "crm" has no tokens yet: a login is needed/);
    assert.equal((await cli(["logout", "crm", "--config", path])).code, 0);
    const after = await cli(["token", "crm", "--config", path]);
    assert.notEqual(after.code, 0);
    assert.match(after.stderr, /connection "crm" was logged out (just now|\d+s ago): a login is needed/);
    assert.doesNotMatch(after.stderr, /no tokens yet/);
    const status = await cli(["status", "crm", "--config", path]);
    assert.match(status.stdout, /crm: removed \(authorization_code\)\n {2}logged out (just now|\d+s ago); a login is needed/);
  });

  it("warns about the password grant once per run of a command that uses the connection, not on status or logout", async (t) => {
    const path = await writeConfig(t, { legacy });
    const warning = /the password grant is legacy/g;
    const token = await cli(["token", "legacy", "--config", path]);
    assert.equal(token.stderr.match(warning)?.length, 1, token.stderr);
    const test = await cli(["test", "legacy", "--config", path]);
    assert.equal((test.stdout + test.stderr).match(warning)?.length, 1, test.stderr);
    for (const args of [["status"], ["status", "legacy"], ["logout", "legacy"]]) {
      const run = await cli([...args, "--config", path]);
      assert.doesNotMatch(run.stderr, warning, args.join(" "));
    }
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("tokensmith demo --serve", () => {
  it("keeps a server on --port that issues 60-second tokens", async (t) => {
    const dir = await tmpDir(t);
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, "demo", "--serve", "--port", String(port), "--dir", dir], { stdio: ["ignore", "pipe", "pipe"] });
    t.after(() => child.kill("SIGINT"));
    let out = "";
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk) => {
        out += chunk;
        if (/keeps running at/.test(out)) resolve();
      });
      child.stderr.on("data", (chunk) => (out += chunk));
      child.once("exit", () => reject(new Error(`demo exited:\n${out}`)));
    });
    assert.match(out, new RegExp(`keeps running at http://127\\.0\\.0\\.1:${port}, issuing access tokens that live 60 s`));
    const token = await cli(["token", "demo-service", "--json", "--config", join(dir, "tokensmith.yaml")]);
    assert.equal(token.code, 0, token.stderr);
    const { expires_in } = JSON.parse(token.stdout) as { expires_in: number };
    assert.ok(expires_in > 30 && expires_in <= 60, `expires_in ${expires_in}`);
  });

  it("refuses a --port that is not a port", async () => {
    const run = await cli(["demo", "--serve", "--port", "http"]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--port must be a port number \(got "http"\)/);
  });
});

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { installed } from "../support/programs.js";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { promisify } from "node:util";
import { parse } from "yaml";
import { BIN } from "../support/cli.js";
import { tmpDir, withDemoServer } from "../support/demo.js";

/**
 * `tokensmith add` in a real terminal (SPEC §3, issue 13 item 3): the built binary under tmux,
 * keys sent with send-keys and the screen read back with capture-pane.
 */

const run = promisify(execFile);

interface Screen {
  type(...keys: string[]): Promise<void>;
  /** The screen once it matches (polled for up to 20 s); fails the test with the screen otherwise. */
  waitFor(pattern: RegExp): Promise<string>;
}

/** `tokensmith add` running in a fresh tmux terminal 120x40 in `dir`; "EXIT=<code>" is printed when it ends. */
async function addInTerminal(t: TestContext, dir: string, args: string[] = []): Promise<Screen> {
  const socket = `tokensmith-add-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const tmux = (...rest: string[]) => run("tmux", ["-L", socket, ...rest]);
  const env = [`PATH=${process.env.PATH}`, `HOME=${dir}`, `XDG_STATE_HOME=${join(dir, ".state")}`, `XDG_CONFIG_HOME=${join(dir, ".xdg")}`, "TERM=xterm-256color"];
  const quoted = [process.execPath, BIN, "add", ...args].map((arg) => `'${arg}'`).join(" ");
  await tmux("new-session", "-d", "-s", "t", "-x", "120", "-y", "40", "-c", dir, "env", "-i", ...env, "sh", "-c", `${quoted}; echo EXIT=$?; sleep 120`);
  t.after(() => tmux("kill-server").catch(() => {}));
  const screen = async () => (await tmux("capture-pane", "-p", "-t", "t")).stdout;
  return {
    type: async (...keys) => void (await tmux("send-keys", "-t", "t", "--", ...keys)),
    async waitFor(pattern) {
      let text = "";
      for (let i = 0; i < 100; i++) {
        text = await screen();
        if (pattern.test(text)) return text;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.fail(`the screen never showed ${pattern}:\n${text}`);
    },
  };
}

describe("tokensmith add in a real terminal (tmux)", { skip: !installed("tmux") && "tmux is not installed" }, () => {
  it("picks a preset by typing part of its name, a grant, a client id and an env-var secret; writes the file", async (t) => {
    const dir = await tmpDir(t);
    const term = await addInTerminal(t, dir);
    const first = await term.waitFor(/Provider \(type to filter\):/);
    assert.match(first, /> \S+/, "the list is shown before anything is typed");
    await term.type("hubs");
    const filtered = await term.waitFor(/Provider \(type to filter\): hubs\n/);
    assert.match(filtered, /> hubspot +HubSpot/);
    assert.doesNotMatch(filtered, /google|salesforce/);
    await term.type("Enter");
    await term.waitFor(/Connection name \[hubspot\]: ?$/m);
    await term.type("crm", "Enter");
    const grants = await term.waitFor(/Grant \(type to filter\):/);
    assert.match(grants, /authorization_code[\s\S]*client_credentials/);
    await term.type("client", "Enter");
    await term.waitFor(/Grant: client_credentials\n[\s\S]*Client id: ?$/m);
    await term.type("my-client-id", "Enter");
    await term.waitFor(/Client secret \(type to filter\):[\s\S]*environment variable/);
    await term.type("Enter");
    await term.waitFor(/Environment variable \[CRM_CLIENT_SECRET\]: ?$/m);
    await term.type("Enter");
    await term.waitFor(/Scopes, space-separated: ?$/m);
    await term.type("crm.objects.contacts.read crm.schemas.read", "Enter");
    const done = await term.waitFor(/EXIT=\d+/);
    assert.match(done, /EXIT=0/);
    assert.match(done, /created .*tokensmith\.yaml: connection "crm"/);
    assert.match(done, /set CRM_CLIENT_SECRET to the client secret/);
    const path = join(dir, "tokensmith.yaml");
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(parse(await readFile(path, "utf8")).connections, {
      crm: { provider: "hubspot", grant: "client_credentials", client_id: "my-client-id", client_secret: "${env:CRM_CLIENT_SECRET}", scopes: ["crm.objects.contacts.read", "crm.schemas.read"] },
    });
  });

  it("custom server: a secret typed without echo into a 0600 file, then runs `tokensmith test` when asked", async (t) => {
    const server = await withDemoServer(t);
    const dir = await tmpDir(t);
    const secret = server.clients.basic.clientSecret;
    const term = await addInTerminal(t, dir);
    await term.waitFor(/Provider \(type to filter\):/);
    await term.type("custom");
    await term.waitFor(/> custom/);
    await term.type("Enter");
    await term.waitFor(/Token URL: ?$/m);
    await term.type(server.endpoints.token, "Enter");
    await term.waitFor(/Authorization URL \(empty when there is none\): ?$/m);
    await term.type("Enter");
    await term.waitFor(/Connection name: ?$/m);
    await term.type("demo-cc", "Enter");
    // A token URL alone: client_credentials is the only grant, said and not asked.
    await term.waitFor(/Grant: client_credentials\n[\s\S]*Client id: ?$/m);
    await term.type(server.clients.basic.clientId, "Enter");
    await term.waitFor(/Client secret \(type to filter\):/);
    await term.type("file", "Enter");
    await term.waitFor(/Secret file \[.*demo-cc\.client-secret\]: ?$/m);
    await term.type("Enter");
    await term.waitFor(/Client secret \(not shown\): ?$/m);
    await term.type(secret, "Enter");
    await term.waitFor(/Scopes, space-separated: ?$/m);
    await term.type("Enter");
    const offer = await term.waitFor(/Run `tokensmith test demo-cc` now\? \(y\/N\): ?$/m);
    assert.ok(!offer.includes(secret), "the secret is never shown");
    await term.type("y", "Enter");
    const done = await term.waitFor(/EXIT=\d+/);
    assert.match(done, /EXIT=0/);
    assert.match(done, /^ok {3}\S/m, "tokensmith test ran and passed");
    assert.doesNotMatch(done, /^FAIL/m);
    const secretFile = join(dir, "demo-cc.client-secret");
    assert.equal(await readFile(secretFile, "utf8"), `${secret}\n`);
    assert.equal((await stat(secretFile)).mode & 0o777, 0o600);
    const text = await readFile(join(dir, "tokensmith.yaml"), "utf8");
    assert.ok(!text.includes(secret));
    assert.deepEqual(parse(text).connections["demo-cc"], {
      token_url: server.endpoints.token,
      grant: "client_credentials",
      client_id: server.clients.basic.clientId,
      client_secret: "${file:demo-cc.client-secret}",
    });
  });

  it("Ctrl-C cancels: exit 2, nothing written", async (t) => {
    const dir = await tmpDir(t);
    const term = await addInTerminal(t, dir);
    await term.waitFor(/Provider \(type to filter\):/);
    await term.type("goo", "Enter");
    await term.waitFor(/Connection name \[google\]: ?$/m);
    await term.type("C-c");
    const done = await term.waitFor(/EXIT=\d+/);
    assert.match(done, /cancelled: nothing was written/);
    assert.match(done, /EXIT=2/);
    assert.deepEqual((await readdir(dir)).filter((name) => name !== ".state"), []);
  });
});

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { installed } from "../support/programs.js";
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { promisify } from "node:util";
import { tmpDir } from "../support/demo.js";
import { BIN, cliProcess } from "../support/cli.js";

/**
 * `tokensmith completion bash|zsh|fish` (SPEC §3, issue 13 item 4), checked in the real shells:
 * bash driven through COMP_WORDS / COMP_CWORD, fish through `complete -C`, and bash and zsh in
 * a real terminal (tmux: keys sent, the screen read back). The scripts call the built binary
 * back for connection names, so names follow the config in use and the `--config` on the line.
 */

const run = promisify(execFile);

interface Setup {
  dir: string;
  /** Environment for the shells: `tokensmith` on PATH (the built binary), a private HOME, the default config. */
  env: NodeJS.ProcessEnv;
  /** A second config, with other names, for `--config`. */
  other: string;
}

async function setup(t: TestContext): Promise<Setup> {
  const dir = await tmpDir(t);
  const bin = join(dir, "bin");
  await run("mkdir", ["-p", bin]);
  await writeFile(join(bin, "tokensmith"), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  await chmod(join(bin, "tokensmith"), 0o755);
  const connection = (grant: string) => `    grant: ${grant}\n    token_url: https://auth.example.com/oauth/token\n    client_id: my-client\n    client_secret: \${env:NOT_NEEDED_FOR_NAMES}\n`;
  const main = join(dir, "main.yaml");
  await writeFile(main, `connections:\n  billing:\n${connection("client_credentials")}  hubspot-crm:\n${connection("client_credentials")}`, { mode: 0o600 });
  const other = join(dir, "other.yaml");
  await writeFile(other, `connections:\n  warehouse:\n${connection("client_credentials")}`, { mode: 0o600 });
  const env = {
    PATH: `${bin}:${process.env.PATH}`,
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, "config"),
    XDG_CACHE_HOME: join(dir, "cache"),
    XDG_STATE_HOME: join(dir, "state"),
    TOKENSMITH_CONFIG: main,
    TERM: "xterm",
  };
  return { dir, env, other };
}

/** The bash completion's answer for a command line (the last word is the one being completed). */
async function bashComplete(s: Setup, words: string[]): Promise<string[]> {
  const script = `source <(tokensmith completion bash)
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=()
_tokensmith
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const { stdout } = await run("bash", ["--norc", "--noprofile", "-c", script], { env: s.env, cwd: s.dir });
  return stdout.split("\n").filter(Boolean);
}

describe("tokensmith completion bash", () => {
  it("installs a completion function for tokensmith", async (t) => {
    const s = await setup(t);
    const { stdout } = await run("bash", ["--norc", "--noprofile", "-c", "source <(tokensmith completion bash) && complete -p tokensmith"], { env: s.env });
    assert.equal(stdout.trim(), "complete -F _tokensmith tokensmith");
  });

  it("completes commands, each command's own flags, and the global ones", async (t) => {
    const s = await setup(t);
    assert.deepEqual(await bashComplete(s, ["tokensmith", "to"]), ["token"]);
    assert.deepEqual(await bashComplete(s, ["tokensmith", "co"]), ["connections", "completion"]);
    const callFlags = await bashComplete(s, ["tokensmith", "call", "billing", "-"]);
    for (const flag of ["-X", "--data-urlencode", "-G", "--csv", "--columns", "--paginate", "--config", "--json", "--help"]) assert.ok(callFlags.includes(flag), flag);
    assert.ok(!callFlags.includes("--min-ttl"), "token's flags are not call's");
    assert.deepEqual(await bashComplete(s, ["tokensmith", "token", "billing", "--f"]), ["--force-refresh"]);
    assert.deepEqual(await bashComplete(s, ["tokensmith", "completion", ""]), ["bash", "zsh", "fish"]);
    assert.deepEqual(await bashComplete(s, ["tokensmith", "providers", "hub"]), ["hubspot"]);
    assert.deepEqual(await bashComplete(s, ["tokensmith", "call", "billing", "-X", "P"]), ["POST", "PUT", "PATCH"]);
    assert.deepEqual(await bashComplete(s, ["tokensmith", "call", "billing", "D"]), ["DELETE"]);
    assert.deepEqual(await bashComplete(s, ["tokensmith", "call", "-H", ""]), [], "a header is the user's to write");
  });

  it("completes connection names from the config in use, and from the --config on the line", async (t) => {
    const s = await setup(t);
    assert.deepEqual(await bashComplete(s, ["tokensmith", "token", ""]), ["billing", "hubspot-crm"]);
    assert.deepEqual(await bashComplete(s, ["tokensmith", "call", "-X", "POST", "h"]), ["hubspot-crm"], "a flag's value is not the name");
    assert.deepEqual(await bashComplete(s, ["tokensmith", "--config", s.other, "status", ""]), ["warehouse"]);
    assert.deepEqual(await bashComplete(s, ["tokensmith", "logout", "--config", s.other, ""]), ["warehouse"]);
    assert.deepEqual(await bashComplete(s, ["tokensmith", "token", "billing", ""]), [], "one name only");
    assert.deepEqual(await bashComplete(s, ["tokensmith", "log", "h"]), ["hubspot-crm"]);
    assert.deepEqual(await bashComplete(s, ["tokensmith", "log", "billing", "--l"]), ["--limit"]);
  });

  it("completes file names after --config and -o", async (t) => {
    const s = await setup(t);
    assert.deepEqual(await bashComplete(s, ["tokensmith", "--config", join(s.dir, "ot")]), [s.other]);
    assert.deepEqual(await bashComplete(s, ["tokensmith", "call", "billing", "-o", join(s.dir, "ma")]), [join(s.dir, "main.yaml")]);
  });
});

describe("tokensmith __complete connections", () => {
  it("prints the names one a line, and nothing (exit 0) when the config cannot be read", async (t) => {
    const s = await setup(t);
    const names = await cliProcess(["__complete", "connections"], { env: s.env });
    assert.deepEqual([names.code, names.stdout, names.stderr], [0, "billing\nhubspot-crm\n", ""]);
    const missing = await cliProcess(["--config", join(s.dir, "nope.yaml"), "__complete", "connections"], { env: s.env });
    assert.deepEqual([missing.code, missing.stdout, missing.stderr], [0, "", ""]);
    const help = await cliProcess(["--help"], { env: s.env });
    assert.match(help.stdout, /completion/);
    assert.doesNotMatch(help.stdout, /__complete/);
  });

  it("refuses a shell it has no script for", async (t) => {
    const s = await setup(t);
    const res = await cliProcess(["completion", "tcsh"], { env: s.env });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /no completion for shell "tcsh"/);
    assert.match(res.stderr, /hint: one of: bash, zsh, fish/);
  });
});

describe("tokensmith completion fish", { skip: !installed("fish") && "fish is not installed" }, () => {
  it("completes commands with descriptions, flags, and connection names (--config honoured)", async (t) => {
    const s = await setup(t);
    const complete = async (line: string) => {
      const { stdout } = await run("fish", ["--no-config", "-c", `tokensmith completion fish | source; complete -C ${JSON.stringify(line)}`], { env: s.env });
      return stdout.split("\n").filter(Boolean);
    };
    assert.deepEqual(await complete("tokensmith to"), ["token\tprint the access token (cached, refreshed when expired)"]);
    assert.deepEqual(await complete("tokensmith token "), ["billing\tconnection", "hubspot-crm\tconnection"]);
    assert.deepEqual(await complete(`tokensmith --config ${s.other} test `), ["warehouse\tconnection"]);
    assert.ok((await complete("tokensmith call billing --cs")).some((line) => line.startsWith("--csv\t")));
  });
});

/** A shell in a real terminal (tmux): type, press Tab, read the screen. */
async function terminal(t: TestContext, s: Setup, shell: string[]): Promise<{ type(keys: string[]): Promise<void>; screenMatching(pattern: RegExp): Promise<string> }> {
  const socket = `tokensmith-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const tmux = (...args: string[]) => run("tmux", ["-L", socket, ...args], { env: s.env });
  const env = Object.entries(s.env).map(([key, value]) => `${key}=${value}`);
  await tmux("new-session", "-d", "-s", "t", "-x", "160", "-y", "40", "env", "-i", ...env, ...shell);
  t.after(() => tmux("kill-server").catch(() => {}));
  const screen = async () => (await tmux("capture-pane", "-p", "-N", "-t", "t")).stdout;
  return {
    type: async (keys) => void (await tmux("send-keys", "-t", "t", "--", ...keys)),
    // Polls until the screen shows the pattern (the shell and tokensmith take their time), or gives up after 20 s.
    async screenMatching(pattern) {
      let text = "";
      for (let i = 0; i < 100; i++) {
        text = await screen();
        if (pattern.test(text)) return text;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return text;
    },
  };
}

describe("completion in a real terminal (tmux)", { skip: !installed("tmux") && "tmux is not installed" }, () => {
  const shells: [string, string[], string][] = [
    ["bash", ["bash", "--norc", "--noprofile"], "PS1='$ '; source <(tokensmith completion bash); clear"],
    ["zsh", ["zsh", "-f"], "PS1='$ '; autoload -U compinit && compinit -u && source <(tokensmith completion zsh); clear"],
  ];
  for (const [name, command, load] of shells) {
    it(`${name}: tokensmith to<Tab> completes token, and token <Tab><Tab> lists the connections`, { skip: !installed(name) && `${name} is not installed` }, async (t) => {
      const s = await setup(t);
      const term = await terminal(t, s, command);
      await term.type([load, "Enter"]);
      await term.type(["echo ready", "Enter"]);
      await term.screenMatching(/^ready$/m);
      await term.type(["clear", "Enter"]);
      await term.type(["tokensmith to", "Tab"]);
      assert.match(await term.screenMatching(/tokensmith token $/m), /^\$ tokensmith token $/m);
      await term.type(["Tab", "Tab"]);
      const listed = await term.screenMatching(/billing\s+hubspot-crm/);
      assert.match(listed, /billing\s+hubspot-crm/);
      await term.type(["C-u", `tokensmith --config ${s.other} status wa`, "Tab"]);
      assert.match(await term.screenMatching(/status warehouse/), /status warehouse/);
    });
  }
});

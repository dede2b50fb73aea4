import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Command } from "commander";
import { COMMANDS, registerCommands } from "../../src/cli/commands/index.js";
import { CliRun } from "../../src/cli/context.js";
import { commandName, run } from "../../src/cli/main.js";
import { OutputClosed } from "../../src/cli/output.js";
import { cli } from "../support/cli.js";

describe("commandName", () => {
  it("finds the command past the global flags", () => {
    assert.equal(commandName(["token", "billing"]), "token");
    assert.equal(commandName(["--config", "x.yaml", "--json", "header", "billing"]), "header");
    assert.equal(commandName(["--config=x.yaml", "--quiet", "call", "b", "https://x"]), "call");
  });

  it("names none when something before the command could change how it is read", () => {
    assert.equal(commandName([]), undefined);
    assert.equal(commandName(["--help"]), undefined);
    assert.equal(commandName(["-V"]), undefined);
    assert.equal(commandName(["--unknown", "token"]), undefined);
    assert.equal(commandName(["--config"]), undefined);
  });
});

describe("the command table", () => {
  const quiet = { stdout: () => {}, stderr: () => {}, isTTY: false };
  it("sets up only the command the arguments name, and every command otherwise", async () => {
    const one = new Command();
    await registerCommands(one, new CliRun(quiet), "header");
    assert.deepEqual(one.commands.map((c) => c.name()), ["header"]);
    const all = new Command();
    await registerCommands(all, new CliRun(quiet), "tokn");
    assert.deepEqual(all.commands.map((c) => c.name()), Object.keys(COMMANDS));
  });
});

describe("the CLI with only the named command set up", () => {
  it("still lists every command in --help, suggests a command for a typo, and shows a command's own help", async () => {
    const help = await cli(["--help"]);
    assert.equal(help.code, 0);
    for (const command of ["token", "header", "call", "status", "test", "login", "revoke", "logout", "export", "import", "connections", "trust", "providers", "serve", "demo"]) {
      assert.match(help.stdout, new RegExp(`\\n  ${command}\\b`), command);
    }
    const typo = await cli(["tokn", "billing"]);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /did you mean token\?/i);
    const own = await cli(["token", "--help"]);
    assert.equal(own.code, 0);
    assert.match(own.stdout, /--min-ttl <seconds>/);
    assert.doesNotMatch(own.stdout, /--paginate/);
    assert.match(own.stdout, /Global Options:[\s\S]*--config <path>[\s\S]*--json/);
  });
});

describe("a usage error with --json", () => {
  it("is the JSON document alone (nothing more on stderr), the suggestion in its hint", async () => {
    const typo = await cli(["tokn", "--json"]);
    assert.equal(typo.code, 2);
    assert.equal(typo.stderr, "");
    const { error } = JSON.parse(typo.stdout);
    assert.deepEqual([error.code, error.message, error.hint], ["usage_error", "unknown command 'tokn'", "Did you mean token? (run `tokensmith --help`)"]);
    const missing = await cli(["token", "--json"]);
    assert.equal(missing.stderr, "");
    assert.equal(JSON.parse(missing.stdout).error.message, "missing required argument 'name'");
    // Without --json, commander's own text on stderr, as before.
    assert.match((await cli(["tokn"])).stderr, /unknown command 'tokn'\n\(Did you mean token\?\)/);
  });
});

describe("a closed stdout", () => {
  it("still gives a --json error its exit code, with no stack trace", async () => {
    let stderr = "";
    const code = await run(["token", "nowhere", "--json", "--config", "/nonexistent/tokensmith.yaml"], {
      stdout: () => {
        throw new OutputClosed();
      },
      stderr: (text) => void (stderr += text),
      isTTY: false,
    });
    assert.equal(code, 2);
    assert.equal(stderr, "");
  });
});

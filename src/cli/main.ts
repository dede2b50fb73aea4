import { Command, CommanderError, Option } from "commander";
import { readFileSync } from "node:fs";
import { TokenSmithError } from "../errors.js";
import { configCache } from "./config-cache.js";
import { CliRun } from "./context.js";
import { EXIT } from "./exit-codes.js";
import { Printer, processOutput, watchStdout, type Output } from "./output.js";
import { registerCommands } from "./commands/index.js";

/** The global flags of SPEC §3, which every command sees, before or after its name. */
function globalOptions(): Option[] {
  return [
    new Option("--config <path>", "config file (default: $TOKENSMITH_CONFIG, ./tokensmith.yaml, ~/.config/tokensmith/config.yaml)"),
    new Option("--json", "print one JSON document on stdout (errors too)"),
    new Option("--quiet", "no diagnostics on stderr"),
    new Option("--verbose", "more diagnostics on stderr"),
  ];
}

/** Options are plain descriptions: one set serves the scan for the command name and the program. */
function withOptions(command: Command, options: readonly Option[]): Command {
  for (const option of options) command.addOption(option);
  return command;
}

/**
 * The command the arguments name, as commander itself reads them with only the global flags
 * declared (`--config x token NAME` names token); undefined when none comes before anything
 * else (`--help`, `-V`, an unknown flag, no arguments). Whether the table has it is for
 * {@link registerCommands} to say (`help`, a typo).
 */
export function commandName(argv: readonly string[], options: readonly Option[] = globalOptions()): string | undefined {
  // Silent: a flag missing its value (`--config` last) is reported by the real parse.
  const scan = withOptions(new Command(), options).exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
  try {
    return scan.parseOptions([...argv]).operands[0];
  } catch {
    return undefined;
  }
}

/**
 * Build the program: global flags of SPEC §3 and the command table. Given the arguments,
 * only the command they name is loaded and set up (all of them when they name none).
 */
export async function buildProgram(run: CliRun, argv?: readonly string[]): Promise<Command> {
  const options = globalOptions();
  const program = withOptions(new Command("tokensmith"), options)
    .description("OAuth 2.0 connection manager: cached, shared, auto-refreshed tokens for scripts, jobs and services")
    .showHelpAfterError("(run `tokensmith --help` for usage)")
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({
      writeOut: (text) => run.out.stdout(text),
      // With --json the error is the JSON document on stdout (main()), not commander's text too.
      writeErr: (text) => {
        if (!argv?.includes("--json")) run.out.stderr(text);
      },
    });
  const only = argv && commandName(argv, options);
  // -V only works before a command: with one named, package.json need not be read at start.
  if (!only) program.version(packageVersion(), "-V, --version", "print the version");
  await registerCommands(program, run, only);
  return program;
}

/**
 * tokensmith's version, from the package.json two folders up: the same for src/cli/,
 * dist/cli/ and the bundle in dist/cli-bundle/.
 */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/** How the binary runs the CLI, beyond its arguments. */
export interface RunOptions {
  /**
   * Identifies the build (the launcher passes the bundle's digest): validated config files
   * are then cached between runs for it (src/cli/config-cache.ts). Without it, none are.
   */
  buildId?: string;
}

/** Run the CLI; resolves to the exit code. Never calls process.exit itself. Stdin defaults to process.stdin. */
export async function run(argv: string[], out: Output = processOutput, stdin?: NodeJS.ReadableStream, options: RunOptions = {}): Promise<number> {
  const cli = new CliRun(out, stdin, options.buildId ? configCache(options.buildId) : undefined, options.buildId);
  try {
    const program = await buildProgram(cli, argv);
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help, help, --version; commander marks help shown for a missing command with exit code 1.
      if (err.exitCode === 0) return EXIT.ok;
      const json = argv.includes("--json");
      if (json) {
        const printer = new Printer({ ...out, stderr: () => {} }, { json });
        const text = err.code === "commander.help" ? "no command given" : err.message.replace(/^error: /, "");
        // commander's suggestion ("(Did you mean token?)") on a line of its own becomes the hint.
        const [message, ...more] = text.split("\n");
        const suggestion = more.join(" ").replace(/^\((.*)\)$/, "$1").trim();
        return printer.error(new TokenSmithError("usage_error", message!, { hint: suggestion ? `${suggestion} (run \`tokensmith --help\`)` : "run `tokensmith --help`" }));
      }
      return EXIT.usage;
    }
    cli.exitCode = new Printer(out, {}).error(err);
  } finally {
    await cli.close();
  }
  return cli.exitCode;
}

/** The binary's entry: exit with the code once output is flushed. */
export async function main(argv: string[], options: RunOptions = {}): Promise<void> {
  watchStdout();
  const code = await run(argv, processOutput, undefined, options);
  process.exitCode = code;
  // Nothing should keep the process alive now; if a socket or timer does, don't hang a script.
  setTimeout(() => process.exit(code), 100).unref();
}

import type { Command } from "commander";
import type { CliRun } from "../context.js";
import { registerCall } from "./call.js";
import { registerConnections } from "./connections.js";
import { registerDemo } from "./demo.js";
import { registerExport } from "./export.js";
import { registerHeader } from "./header.js";
import { registerImport } from "./import.js";
import { registerLogin } from "./login.js";
import { registerLogout } from "./logout.js";
import { registerProviders } from "./providers.js";
import { registerRevoke } from "./revoke.js";
import { registerServe } from "./serve.js";
import { registerStatus } from "./status.js";
import { registerTest } from "./test.js";
import { registerToken } from "./token.js";
import { registerTrust } from "./trust.js";

/** Every command by name, in the order `tokensmith --help` lists them. */
const COMMANDS: Record<string, (program: Command, run: CliRun) => void> = {
  token: registerToken,
  header: registerHeader,
  call: registerCall,
  status: registerStatus,
  test: registerTest,
  login: registerLogin,
  revoke: registerRevoke,
  logout: registerLogout,
  export: registerExport,
  import: registerImport,
  connections: registerConnections,
  trust: registerTrust,
  providers: registerProviders,
  serve: registerServe,
  demo: registerDemo,
};

/**
 * Every command, one module each (the CLI stays thin: parse, call the library, print); or
 * only `only`, when the arguments name it: a subcommand's parsing, errors and help never
 * look at its siblings, and setting them all up is a few milliseconds of every
 * `tokensmith token` (docs/decisions.md, CLI start-up).
 */
export function registerCommands(program: Command, run: CliRun, only?: string): void {
  const one = only !== undefined && Object.hasOwn(COMMANDS, only) ? COMMANDS[only] : undefined;
  for (const register of one ? [one] : Object.values(COMMANDS)) register(program, run);
}

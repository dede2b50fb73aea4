import type { Command } from "commander";
import type { CliRun } from "../context.js";

/** What a command module provides: it adds its subcommand (arguments, options, action) to the program. */
export type RegisterCommand = (program: Command, run: CliRun) => void;

/**
 * Every command by name, in the order `tokensmith --help` lists them, each loaded only when
 * the arguments name it (docs/decisions.md, CLI start-up): a cached `tokensmith token` never
 * evaluates `call`, `login` or `serve`. A new command is one module exporting its register
 * function and one row here.
 */
export const COMMANDS: Record<string, () => Promise<RegisterCommand>> = {
  token: async () => (await import("./token.js")).registerToken,
  header: async () => (await import("./header.js")).registerHeader,
  call: async () => (await import("./call.js")).registerCall,
  status: async () => (await import("./status.js")).registerStatus,
  log: async () => (await import("./log.js")).registerLog,
  test: async () => (await import("./test.js")).registerTest,
  login: async () => (await import("./login.js")).registerLogin,
  revoke: async () => (await import("./revoke.js")).registerRevoke,
  logout: async () => (await import("./logout.js")).registerLogout,
  export: async () => (await import("./export.js")).registerExport,
  import: async () => (await import("./import.js")).registerImport,
  connections: async () => (await import("./connections.js")).registerConnections,
  add: async () => (await import("./add.js")).registerAdd,
  trust: async () => (await import("./trust.js")).registerTrust,
  providers: async () => (await import("./providers.js")).registerProviders,
  serve: async () => (await import("./serve.js")).registerServe,
  proxy: async () => (await import("./proxy.js")).registerProxy,
  demo: async () => (await import("./demo.js")).registerDemo,
  completion: async () => (await import("./completion.js")).registerCompletion,
  __complete: async () => (await import("./completion.js")).registerCompleteHelper,
};

/**
 * Sets up the command `name` when the table has it; every command otherwise (help, a typo,
 * no command): a subcommand's parsing, errors and help never look at its siblings, and the
 * program's own help and "did you mean" need them all.
 */
export async function registerCommands(program: Command, run: CliRun, name?: string): Promise<void> {
  const loaders = name !== undefined && Object.hasOwn(COMMANDS, name) ? [COMMANDS[name]] : Object.values(COMMANDS);
  for (const register of await Promise.all(loaders.map((load) => load()))) register(program, run);
}

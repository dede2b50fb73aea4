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

/** Every command, one module each (the CLI stays thin: parse, call the library, print). */
export function registerCommands(program: Command, run: CliRun): void {
  for (const register of [
    registerToken,
    registerHeader,
    registerCall,
    registerStatus,
    registerTest,
    registerLogin,
    registerRevoke,
    registerLogout,
    registerExport,
    registerImport,
    registerConnections,
    registerProviders,
    registerServe,
    registerDemo,
  ]) {
    register(program, run);
  }
}

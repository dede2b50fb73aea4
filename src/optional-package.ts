import { TokenSmithError, type ErrorCode } from "./errors.js";

/**
 * Optional packages, loaded on first use: `pg` and `ioredis` (a store of that type) and
 * `oidc-provider` (`tokensmith demo`) are optional peer dependencies, so a library install
 * does not pull them in. A missing one is a clear error naming the package and the command
 * that installs it, not a module-resolution stack trace. `load` is the caller's literal
 * `import()`, so the CLI bundler still sees the specifier.
 */
export async function importOptionalPackage<M>(load: () => Promise<M>, name: string, need: { code: ErrorCode; what: string; field?: string }): Promise<M> {
  try {
    return await load();
  } catch (cause) {
    const code = (cause as { code?: unknown })?.code;
    if (code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND") throw cause;
    throw new TokenSmithError(need.code, `${need.what} needs the package "${name}", which is not installed`, {
      field: need.field,
      hint: `install it beside tokensmith: npm install ${name} (npm install -g ${name} beside a global tokensmith)`,
      cause,
    });
  }
}

import { TokenSmithError } from "../errors.js";

/**
 * Loads a database client package for a store driver. `pg` and `ioredis` are dependencies of
 * tokensmith, but a pruned or hand-assembled install may lack one: that is a clear
 * `store_error` naming the package, not a module-resolution stack trace. `load` is the
 * caller's literal `import()`, so the CLI bundler still sees the specifier.
 */
export async function importDriverPackage<M>(load: () => Promise<M>, name: string, storeType: string): Promise<M> {
  try {
    return await load();
  } catch (cause) {
    const code = (cause as { code?: unknown })?.code;
    if (code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND") throw cause;
    throw new TokenSmithError("store_error", `store type ${storeType} needs the package "${name}", which is not installed`, {
      field: "store.type",
      hint: `install it beside tokensmith: npm install ${name}`,
      cause,
    });
  }
}

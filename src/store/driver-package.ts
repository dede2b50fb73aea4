import { importOptionalPackage } from "../optional-package.js";

/** A database client package for a store driver; a missing one is a `store_error` on `store.type`. */
export function importDriverPackage<M>(load: () => Promise<M>, name: string, storeType: string): Promise<M> {
  return importOptionalPackage(load, name, { code: "store_error", what: `store type ${storeType}`, field: "store.type" });
}

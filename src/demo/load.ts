import { importOptionalPackage } from "../optional-package.js";

/**
 * Loads oidc-provider on first use. It is an optional peer dependency, imported dynamically so
 * that tokensmith's library and CLI pay nothing for it unless the demo server starts (a missing
 * one is a `not_supported` error naming `npm install oidc-provider`), and so that its import-time
 * "Unsupported runtime" banner can be held back: oidc-provider v9 asks for Node 22 LTS but
 * runs the demo's configuration on Node 20 (tokensmith's floor), which the test suite checks.
 * Only that one line is filtered, and only while the module loads.
 */
export type OidcModule = typeof import("oidc-provider");

const RUNTIME_BANNER = "oidc-provider WARNING: Unsupported runtime";
let loading: Promise<OidcModule> | undefined;

export function loadOidcProvider(): Promise<OidcModule> {
  loading ??= (async () => {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (typeof args[0] === "string" && args[0].includes(RUNTIME_BANNER)) return;
      warn.apply(console, args);
    };
    try {
      return await importOptionalPackage(() => import("oidc-provider"), "oidc-provider", { code: "not_supported", what: "tokensmith demo" });
    } finally {
      console.warn = warn;
    }
  })();
  return loading;
}

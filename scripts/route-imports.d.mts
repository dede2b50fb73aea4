/** Routes every `import()` in the CLI bundle through `__bundleImport` (see route-imports.mjs). */
export declare function routeDynamicImports(code: string): string;

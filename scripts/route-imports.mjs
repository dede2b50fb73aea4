// Build step of scripts/bundle.mjs, apart so that it can be tested.
import ts from "typescript";

/**
 * Routes every `import()` in the CLI bundle through `__bundleImport`, which launch.cjs passes
 * in: in Node 20 a vm script's own `import()` needs an experimental loader, and breaks for
 * code that comes from the code cache. Found with TypeScript's parser, so text in strings,
 * templates and regular expressions, or a method named `import`, never matches.
 * @param {string} code
 * @returns {string}
 */
export function routeDynamicImports(code) {
  const file = ts.createSourceFile("bundle.js", code, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  const starts = [];
  const visit = (node) => {
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) starts.push(node.expression.getStart(file));
    ts.forEachChild(node, visit);
  };
  visit(file);
  let out = code;
  for (const start of starts.reverse()) out = `${out.slice(0, start)}__bundleImport${out.slice(start + "import".length)}`;
  return out;
}

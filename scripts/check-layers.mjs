#!/usr/bin/env node
// The layer rules of SPEC §7, checked rather than hoped for: no import cycles (type-only imports
// included), and each layer imports only what sits below it. Run by `npm test` through
// test/scripts/layers.test.ts; run it alone with `node scripts/check-layers.mjs`.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Source files over this many lines are reported (STYLE: none over ~400). */
export const MAX_LINES = 400;

/**
 * Forbidden edges: [from-prefix, to-prefix, why]. Paths are relative to src/, folders end in "/".
 * Entry points (src/cli/main.ts, src/gateway/start.ts, src/index.ts) are the only way in to
 * cli/ and gateway/.
 */
export const RULES = [
  ["flows/", "store/", "flows get a code from a person; they know nothing of stores"],
  ["flows/", "lifecycle/", "flows know nothing of the token lifecycle"],
  ["protocol/", "store/", "the protocol layer knows nothing of stores"],
  ["protocol/", "lifecycle/", "the protocol layer knows nothing of caching"],
  ["protocol/", "config/", "protocol takes its own types, not config values"],
  ["store/", "protocol/", "stores know nothing of OAuth"],
  ["store/", "lifecycle/", "stores know nothing of OAuth"],
  ["store/", "flows/", "stores know nothing of OAuth"],
  ["gateway/", "store/", "the gateway uses the public API, not store internals"],
];

/** Files outside cli/ and gateway/ that may import them (their entry points, and the CLI's own entry). */
const ENTRY_IMPORTERS = new Set(["index.ts", "tokensmith.ts"]);
const ENTRY_POINTS = new Set(["cli/main.ts", "gateway/start.ts"]);

function listSources(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) listSources(path, out);
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

/** Every relative import of a file (static, type-only, re-exports, and literal dynamic imports). */
function importsOf(file) {
  const text = readFileSync(file, "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found = [];
  const visit = (node) => {
    let spec;
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      spec = node.moduleSpecifier.text;
      const typeOnly = ts.isImportDeclaration(node) ? Boolean(node.importClause?.isTypeOnly) : node.isTypeOnly;
      if (spec.startsWith(".")) found.push({ spec, dynamic: false, typeOnly });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteral(arg) && arg.text.startsWith(".")) found.push({ spec: arg.text, dynamic: true, typeOnly: false });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      const spec2 = node.argument.literal.text;
      if (spec2.startsWith(".")) found.push({ spec: spec2, dynamic: false, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { found, lines: text.split("\n").length };
}

function resolveSpec(from, spec, known) {
  const base = resolve(dirname(from), spec).replace(/\.js$/, "");
  for (const candidate of [`${base}.ts`, join(base, "index.ts")]) if (known.has(candidate)) return candidate;
  return undefined;
}

/** The import graph of src/, as paths relative to src/. */
export function importGraph(srcDir = join(root, "src")) {
  const files = listSources(srcDir);
  const known = new Set(files);
  const graph = new Map();
  const lines = new Map();
  for (const file of files) {
    const rel = relative(srcDir, file);
    const { found, lines: count } = importsOf(file);
    lines.set(rel, count);
    graph.set(
      rel,
      found.flatMap((imp) => {
        const target = resolveSpec(file, imp.spec, known);
        return target ? [{ ...imp, to: relative(srcDir, target) }] : [];
      }),
    );
  }
  return { graph, lines };
}

/** Strongly connected components of more than one file (or a file importing itself): the cycles. */
export function findCycles(graph) {
  // Only static imports make a cycle that matters at load time and for layering; a literal
  // dynamic import() is a deliberate lazy edge and still subject to the layer rules.
  let index = 0;
  const stack = [];
  const onStack = new Set();
  const idx = new Map();
  const low = new Map();
  const cycles = [];
  const strong = (v) => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const edge of graph.get(v) ?? []) {
      if (edge.dynamic) continue;
      const w = edge.to;
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const selfLoop = (graph.get(v) ?? []).some((e) => e.to === v && !e.dynamic);
      if (component.length > 1 || selfLoop) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) strong(v);
  return cycles;
}

/** Every broken rule, as readable lines. */
export function checkLayers(srcDir = join(root, "src")) {
  const { graph, lines } = importGraph(srcDir);
  const problems = [];
  for (const cycle of findCycles(graph)) problems.push(`import cycle: ${cycle.join(" <-> ")}`);
  for (const [from, edges] of graph) {
    for (const edge of edges) {
      for (const [fromPrefix, toPrefix, why] of RULES) {
        if (from.startsWith(fromPrefix) && edge.to.startsWith(toPrefix)) problems.push(`${from} imports ${edge.to}: ${why}`);
      }
      for (const layer of ["cli/", "gateway/"]) {
        const inside = from.startsWith(layer);
        if (!inside && edge.to.startsWith(layer) && !ENTRY_POINTS.has(edge.to)) problems.push(`${from} imports ${edge.to}: only ${layer}'s entry point may be imported from outside it`);
        if (!inside && edge.to.startsWith(layer) && !ENTRY_IMPORTERS.has(from) && !from.startsWith("cli/") && !from.startsWith("gateway/")) {
          problems.push(`${from} imports ${edge.to}: nothing but the package entry imports ${layer}`);
        }
      }
    }
  }
  for (const [file, count] of lines) if (count > MAX_LINES) problems.push(`${file} has ${count} lines (over ${MAX_LINES})`);
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = checkLayers();
  for (const line of problems) console.log(line);
  console.log(problems.length === 0 ? "layers: no problems" : `layers: ${problems.length} problem(s)`);
  process.exit(problems.length === 0 ? 0 : 1);
}

import YAML from "yaml";
import { configError } from "./issues.js";

/**
 * Config file text to a value. Syntax errors name the file, line and column, and never quote
 * the offending line: it may hold a secret.
 */

function lineColumn(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, col: offset - before.lastIndexOf("\n") };
}

function syntaxError(file: string, format: string, reason: string, at?: { line: number; col: number }) {
  const where = at ? `${file}:${at.line}:${at.col}` : file;
  const cleaned = reason.charAt(0).toLowerCase() + reason.slice(1);
  return configError("", `${where}: not valid ${format} (${cleaned})`, { hint: `fix the ${format} syntax at that spot` });
}

/**
 * Aliased nodes one document may expand (the yaml library's own default, named): a few
 * hundred bytes of nested aliases ("billion laughs") would otherwise expand to gigabytes.
 */
const MAX_ALIAS_COUNT = 100;

function parseYaml(text: string, file: string, format = "YAML"): unknown {
  try {
    // merge: true allows `<<: *defaults`, handy for connections that share settings.
    return YAML.parse(text, { prettyErrors: true, merge: true, uniqueKeys: true, maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // The library throws a plain ReferenceError when the alias limit is hit, not a YAMLError.
    if (err instanceof ReferenceError && /alias/i.test(err.message)) {
      throw configError("", `${file}: not valid ${format} (its aliases expand to too many nodes, as in an alias bomb)`, {
        hint: "write the values out, or nest fewer *aliases",
      });
    }
    if (!(err instanceof YAML.YAMLError)) throw err;
    // The message's first clause, without the code frame (which quotes the file).
    const reason = err.message.split(" at line")[0].split("\n")[0];
    const at = err.linePos?.[0];
    throw syntaxError(file, format, reason, at ? { line: at.line, col: at.col } : undefined);
  }
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    // V8 sometimes quotes the input ('Unexpected token }, "{"a": ..." is not valid JSON'): cut it.
    const reason = message.replace(/, ".*" is not valid JSON$/s, "").replace(/ at position \d+.*$/s, "").replace(/ in JSON$/, "");
    const position = /at position (\d+)/.exec(message);
    if (position) throw syntaxError(file, "JSON", reason, lineColumn(text, Number(position[1])));
    // No position given: YAML (a superset of JSON) usually can say where it breaks.
    parseYaml(text, file, "JSON");
    throw syntaxError(file, "JSON", reason);
  }
}

/** The parsed content of a config file (`.json` as JSON, anything else as YAML). */
export function parseConfigText(text: string, file: string): unknown {
  const body = text.replace(/^\uFEFF/, "");
  return file.toLowerCase().endsWith(".json") ? parseJson(body, file) : parseYaml(body, file);
}

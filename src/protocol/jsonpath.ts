/**
 * The JSONPath expressions a config may hold (the `response` mapping, SPEC §1): plain paths to
 * one place in a token response, checked at load. jsonpath-plus evaluates far more (filters and
 * scripts, `^` parents, `~` names, `@type()` selectors) and accepts almost anything (`$.[` is
 * read as `$..`), so a config is held to a small, exact subset, and evaluation runs with
 * `eval: false` besides (token-response.ts):
 *
 *   $                      the root
 *   .name  ..name          a member (letters, digits, `_`, `-`, non-ASCII), or any descendant's
 *   .*  ..*  [*]           every member
 *   [0]                    an array index (0 or more)
 *   ['name']  ["name"]     a member by a quoted name (none of ' " [ ] \ , : $ * @ ~ ^ ` inside)
 */

const NAME = "[A-Za-z0-9_\\-\\u0080-\\uFFFF]+";
// jsonpath-plus reads `$ * @ ~ ^ \`` `,` `:` specially even inside quotes (`$['*']` is every member).
const QUOTED_NAME = "[^'\"[\\]\\\\,:$*@~^`]+";
const BRACKET = `\\[(?:\\d+|\\*|'${QUOTED_NAME}'|"${QUOTED_NAME}")\\]`;
/** One step: `.name`, `.*`, `..name`, `..*`, `..[...]`, `[...]`. */
const STEP = new RegExp(`^(?:\\.(?:\\*|${NAME})|\\.\\.(?:\\*|${NAME}|${BRACKET})|${BRACKET})`);
const SCRIPT = /\[\s*[?(]/;
/** Longest piece of the rest shown when a path cannot be read. */
const SHOWN = 20;

/** Why `path` is not a JSONPath of the subset above, or undefined when it is one. */
export function jsonPathProblem(path: string): string | undefined {
  if (!path.startsWith("$")) return "must be a JSONPath expression starting with $";
  if (SCRIPT.test(path)) return "filter and script expressions ([?(...)], [(...)]) are not evaluated";
  let rest = path.slice(1);
  while (rest) {
    const step = STEP.exec(rest)?.[0];
    if (!step) return `not a JSONPath tokensmith reads: stuck at ${JSON.stringify(rest.slice(0, SHOWN))}`;
    rest = rest.slice(step.length);
  }
  return undefined;
}

/** What a config JSONPath may look like, for hints. */
export const JSONPATH_HINT = "a plain path such as $.data.access_token: .name, ['name'], [0], [*] and .. steps";

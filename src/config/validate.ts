import { configError, formatPath } from "./issues.js";
import { configSchema, fieldsAt, type ConfigFile } from "./schema.js";
import { didYouMean } from "./suggest.js";

/**
 * Turns zod's issues into one `config_invalid` error that lists every problem in the file,
 * each as `field.path: problem`, so a user fixes them in one round instead of one per run.
 */

/** More problems than this are summarised: the first ones usually explain the rest. */
const MAX_LISTED = 10;

interface Problem {
  field: string;
  message: string;
  hint?: string;
  /** The connection the field belongs to, for the error's `connection`. */
  connection?: string;
}

interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  keys?: string[];
  issues?: Issue[];
  params?: { hint?: string };
}

/** `connections.<name>...` paths belong to that connection (names may contain dots, so read the path, not the text). */
function connectionOf(path: readonly PropertyKey[]): string | undefined {
  return path[0] === "connections" && typeof path[1] === "string" ? path[1] : undefined;
}

function problemsOf(issue: Issue): Problem[] {
  return problemsAt(issue).map((problem) => ({ ...problem, connection: connectionOf(issue.path) }));
}

function problemsAt(issue: Issue): Problem[] {
  const field = formatPath(issue.path);
  if (issue.code === "unrecognized_keys") {
    return (issue.keys ?? []).map((key) => ({
      field: formatPath([...issue.path, key]),
      message: "unknown field",
      hint: didYouMean(key, fieldsAt(issue.path)) ?? "check the spelling against the documented fields",
    }));
  }
  if (issue.code === "invalid_key") {
    const inner = issue.issues?.[0]?.message ?? "not a valid name";
    const hint = 'use letters, digits, "-", "_" and ".", starting with a letter or digit';
    return [{ field, message: inner, hint }];
  }
  let message = issue.message.replace(/^Invalid input: /, "");
  message = message.charAt(0).toLowerCase() + message.slice(1);
  let hint = issue.params?.hint;
  if (!hint && message === "expected a string (got a number)") hint = 'quote the value so it stays exact, e.g. client_id: "1234567890"';
  return [{ field, message, hint }];
}

/** The config, checked against the schema; a `config_invalid` error listing every problem otherwise. */
export function validateConfig(value: unknown, file?: string): ConfigFile {
  const result = configSchema.safeParse(value ?? {});
  if (result.success) return result.data;
  const problems = (result.error.issues as unknown as Issue[]).flatMap(problemsOf);
  const [first, ...rest] = problems;
  const listed = rest.slice(0, MAX_LISTED - 1).map((p) => `\n  ${p.field}: ${p.message}`);
  const more = rest.length >= MAX_LISTED ? `\n  (and ${rest.length - MAX_LISTED + 1} more)` : "";
  throw configError(first.field, `${first.message}${listed.join("")}${more}`, { hint: first.hint, file, connection: first.connection });
}

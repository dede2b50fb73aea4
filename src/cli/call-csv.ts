import { TokenSmithError } from "../errors.js";
import { jsonPathMatches } from "../http/paginate.js";
import type { Sink } from "./call-output.js";

/**
 * `tokensmith call --csv`: records as CSV (RFC 4180: CRLF line ends, a field quoted when it
 * holds a comma, a quote, CR or LF, quotes doubled), for a spreadsheet or a database's COPY.
 * Each record is flattened first: nested objects become dotted keys (`address.city`); arrays,
 * and objects a column picks whole, are one cell of JSON; null is an empty cell. Columns come
 * from `--columns 'name=$.path,...'`, else from the keys of the first records (their union, in
 * the order they appear), so the header is written once those records are in.
 */

/** How many records are looked at for the header when `--columns` does not give it. */
export const HEADER_SAMPLE = 100;

export interface Column {
  name: string;
  /** A JSONPath into the record (not the flattened one), or undefined: the flattened key `name`. */
  path?: string;
}

/**
 * `--columns 'id,name=$.user.name,city=$.address.city'`: `NAME=JSONPATH`, or a bare key of the
 * flattened record. Commas inside brackets or quotes (`$['a,b']`) do not split.
 */
export function parseColumns(spec: string): Column[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let current = "";
  for (const c of spec) {
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "[") depth++;
    else if (c === "]") depth--;
    else if (c === "," && depth === 0) {
      parts.push(current);
      current = "";
      continue;
    }
    current += c;
  }
  parts.push(current);
  const columns = parts.map((part) => {
    const item = part.trim();
    const eq = item.indexOf("=");
    const column: Column = eq < 0 ? { name: item } : { name: item.slice(0, eq).trim(), path: item.slice(eq + 1).trim() };
    if (!column.name || (column.path !== undefined && !column.path.startsWith("$"))) {
      throw new TokenSmithError("usage_error", `--columns: "${item}" is not NAME=JSONPATH or a key`, { hint: "e.g. --columns 'id,name=$.user.name,city=$.address.city'" });
    }
    return column;
  });
  return columns;
}

/** A record as one level of dotted keys: `{a: {b: 1}, c: [1]}` is `{"a.b": 1, c: [1]}`. */
export function flatten(record: unknown, prefix = "", out: Record<string, unknown> = {}): Record<string, unknown> {
  if (isPlainObject(record)) {
    const entries = Object.entries(record);
    // An empty object stays a cell of its own ({}), so its key is not lost from the header.
    if (entries.length === 0 && prefix) out[prefix] = record;
    for (const [key, value] of entries) flatten(value, prefix ? `${prefix}.${key}` : key, out);
  } else {
    out[prefix || "value"] = record;
  }
  return out;
}

/** One CSV field. */
export function csvField(value: unknown): string {
  const text = value === null || value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Writes records as CSV rows as they come; the header waits for the first records when the columns are not given. */
export class CsvWriter {
  private columns?: Column[];
  private readonly pending: unknown[] = [];
  private count = 0;
  private extraKeysWarned = false;
  /** The columns come from the first records, not from --columns. */
  private readonly derived: boolean;

  constructor(
    private readonly sink: Sink,
    columns: Column[] | undefined,
    private readonly warn: (text: string) => void,
    private readonly connection?: string,
  ) {
    this.columns = columns;
    this.derived = columns === undefined;
  }

  get written(): number {
    return this.count;
  }

  async add(record: unknown): Promise<void> {
    if (this.columns) {
      if (this.count === 0 && this.pending.length === 0) await this.writeHeader();
      return this.row(record);
    }
    this.pending.push(record);
    if (this.pending.length >= HEADER_SAMPLE) await this.flush();
  }

  /** The rows held for the header, then nothing more (also after a failure: what was fetched is written). */
  async end(): Promise<void> {
    if (!this.columns) await this.flush();
  }

  private async flush(): Promise<void> {
    const keys = new Set<string>();
    for (const record of this.pending) for (const key of Object.keys(flatten(record))) keys.add(key);
    this.columns = [...keys].map((name) => ({ name }));
    if (this.columns.length === 0) return;
    await this.writeHeader();
    for (const record of this.pending.splice(0)) await this.row(record);
  }

  private async writeHeader(): Promise<void> {
    await this.sink.write(`${this.columns!.map((c) => csvField(c.name)).join(",")}\r\n`);
  }

  private async row(record: unknown): Promise<void> {
    const flat = flatten(record);
    const cells = this.columns!.map((column) => (column.path === undefined ? flat[column.name] : pick(record, column.path, this.connection)));
    if (this.derived && !this.extraKeysWarned) {
      // Columns taken from the first records: a later record with keys of its own loses them; say so once.
      const known = new Set(this.columns!.map((c) => c.name));
      const extra = Object.keys(flat).filter((key) => !known.has(key));
      if (extra.length) {
        this.extraKeysWarned = true;
        this.warn(`record ${this.count + 1} has keys that are not columns (${extra.slice(0, 5).join(", ")}); name every column with --columns to keep them`);
      }
    }
    await this.sink.write(`${cells.map(csvField).join(",")}\r\n`);
    this.count++;
  }
}

/** A column's value: the first match of its JSONPath in the record, or nothing. */
function pick(record: unknown, path: string, connection?: string): unknown {
  if (record === null || typeof record !== "object") return undefined;
  return jsonPathMatches(path, record, "--columns", connection)[0];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

import type { Command } from "commander";
import { redactedJSON, TokenSmithError } from "../../errors.js";
import { isInsufficientScope } from "../../http/call.js";
import type { PaginateOptions } from "../../http/paginate.js";
import type { ApiRetryOptions } from "../../http/retry.js";
import type { Connection } from "../../lifecycle/connection.js";
import { internals } from "../../lifecycle/handle.js";
import { CsvWriter, parseColumns } from "../call-csv.js";
import { buildRequest, type CallRequest, type DataItem } from "../call-request.js";
import { headerBlock, memorySink, openSink, RecordWriter, writeBody, type Sink } from "../call-output.js";
import { CallTrace } from "../call-trace.js";
import type { CliContext, CliRun } from "../context.js";
import { exitCodeOf } from "../exit-codes.js";

interface CallFlags {
  request?: string;
  header?: string[];
  data?: OrderedItem[];
  dataUrlencode?: OrderedItem[];
  get?: boolean;
  output?: string;
  include?: boolean;
  silent?: boolean;
  fail?: boolean;
  trace?: boolean;
  paginate?: boolean;
  next?: string;
  cursor?: string;
  jsonpath?: string;
  ndjson?: boolean;
  csv?: boolean;
  columns?: string;
  retry?: string;
}

/** A -d or --data-urlencode with its place on the command line. */
type OrderedItem = DataItem & { at: number };

/** At most this many retries from the command line, as the config allows (api_retry.max). */
const MAX_CLI_RETRIES = 10;

/**
 * `tokensmith call NAME [METHOD] URL`: a curl-like request with the connection's token, 401
 * recovery and, with `--paginate`, every page (SPEC §3). The body goes to stdout (or `-o`);
 * an HTTP status >= 400 exits 5, a 401 that survived a refresh exits 3.
 */
export function registerCall(program: Command, run: CliRun): void {
  // -d and --data-urlencode are joined in the order given, as curl joins them.
  let order = 0;
  const collect = (kind: DataItem["kind"]) => (value: string, all: OrderedItem[] | undefined): OrderedItem[] => [...(all ?? []), { kind, value, at: order++ }];
  program
    .command("call")
    .description("call an API with the connection's token (curl-like, with 401 recovery and pagination)")
    .argument("<name>", "connection name")
    .argument("<method-or-url>", "HTTP method (default GET, or POST with -d), or the URL (absolute, or a path under the connection's base_url)")
    .argument("[url]", "the URL, when a method comes first")
    .option("-X, --request <method>", "the HTTP method (instead of one before the URL)")
    .option("-H, --header <line>", "request header 'Name: value' (repeatable)", (line: string, all: string[] | undefined) => [...(all ?? []), line])
    .option("-d, --data <data>", "request body: DATA, @FILE, or @- for standard input (several are joined with &, as curl does)", collect("data"))
    .option("--data-urlencode <data>", "form data, percent-encoded: CONTENT, NAME=CONTENT, @FILE or NAME@FILE (repeatable, joined with &)", collect("urlencode"))
    .option("-G, --get", "send the -d / --data-urlencode data as the query string of a GET")
    .option("-o, --output <file>", "write the body to FILE instead of stdout")
    .option("-i, --include", "print the response status line and headers before the body")
    .option("-s, --silent", "no progress bar and no diagnostics, only errors")
    .option("-f, --fail", "on an HTTP status >= 400 print nothing of the body (exit 5)")
    .option("-v, --trace", "a redacted trace of each request and response on stderr (also with --verbose)")
    .option("--paginate", 'fetch every page (following Link: rel="next" unless --next or --cursor says otherwise)')
    .option("--next <jsonpath>", "the next page's URL is at this JSONPath in the body (implies --paginate)")
    .option("--cursor <param=jsonpath>", "send the cursor at JSONPATH back as query parameter PARAM (implies --paginate)")
    .option("--jsonpath <expr>", "pick records from each page, e.g. '$.items[*]'")
    .option("--ndjson", "records as newline-delimited JSON instead of one JSON array")
    .option("--csv", "records as CSV (nested objects flattened to dotted keys)")
    .option("--columns <list>", "CSV columns: 'id,name=$.user.name,...' (default: the keys of the first records)")
    .option("--retry <n>", "retry GET/PUT/DELETE up to N times on 429/503, honouring Retry-After")
    .action(
      run.action(async (ctx, name: string, first: string, second: string | undefined, flags: CallFlags) => {
        checkFormats(flags, ctx.flags.json);
        // The printer reads these flags: -s is --quiet for this run (errors are still printed).
        if (flags.silent) ctx.flags.quiet = true;
        const trace = flags.trace || ctx.flags.verbose ? new CallTrace((text) => ctx.printer.out.stderr(text)) : undefined;
        const ts = await ctx.tokensmith({ fetch: trace?.wrap((url, init) => globalThis.fetch(url, init)) });
        const connection = ts.connection(name);
        const data = [...(flags.data ?? []), ...(flags.dataUrlencode ?? [])].sort((a, b) => a.at - b.at);
        const baseUrl = async () => (await internals(connection).setup()).conn.baseUrl;
        const request = await buildRequest({ name, first, second, method: flags.request, header: flags.header ?? [], data, get: flags.get }, ctx.stdin, baseUrl);
        if (trace) trace.addTokenHeader((await internals(connection).setup()).conn.header.name);
        const retry = parseRetry(flags.retry);
        const paginated = flags.paginate || flags.next !== undefined || flags.cursor !== undefined;
        if (paginated || flags.jsonpath !== undefined || flags.ndjson || flags.csv) {
          if (flags.include) throw new TokenSmithError("usage_error", "-i does not go with records (--paginate, --jsonpath, --ndjson, --csv)", { hint: "drop -i, or call one page without them" });
          return records(ctx, connection, request, flags, { retry, maxPages: paginated ? undefined : 1 });
        }
        return single(ctx, connection, request, flags, retry);
      }),
    );
}

/** Output formats that cannot go together, refused before anything is sent. */
function checkFormats(flags: CallFlags, json: boolean | undefined): void {
  if (flags.columns !== undefined && !flags.csv) throw new TokenSmithError("usage_error", "--columns goes with --csv", { hint: "add --csv" });
  if (flags.csv && flags.ndjson) throw new TokenSmithError("usage_error", "--csv and --ndjson are two formats: choose one", { hint: "drop one of them" });
  if (flags.csv && json) throw new TokenSmithError("usage_error", "--csv and --json are two formats: choose one", { hint: "drop --json (errors still set the exit code)" });
}

/** One request; the body as it came (pretty JSON on a terminal). */
async function single(ctx: CliContext, connection: Connection, request: CallRequest, flags: CallFlags, retry: ApiRetryOptions | undefined): Promise<number | void> {
  const response = await connection.fetch(request.url, { method: request.method, headers: request.headers, body: request.body, retry });
  const failed = response.status >= 400;
  if (failed && flags.fail) {
    // curl -f: nothing of an error body, only the error.
    await response.body?.cancel();
    throw httpError(connection.name, request, response);
  }
  if (ctx.flags.json && flags.output === undefined) {
    const text = await response.text();
    const doc = { connection: connection.name, status: response.status, headers: Object.fromEntries(response.headers), body: parseOrText(text) };
    if (!failed) return ctx.printer.data(text, doc);
    // The error, and the API's own answer beside it: the body says why (SPEC §3, issue 13).
    const err = httpError(connection.name, request, response);
    ctx.printer.out.stdout(`${JSON.stringify({ error: redactedJSON(err), ...doc }, null, 2)}\n`);
    return exitCodeOf(err);
  }
  const out = ctx.printer.out;
  const sink = await openSink(flags.output, out);
  try {
    if (flags.include) await sink.write(headerBlock(response));
    const stderrIsTTY = out.stderrIsTTY ?? out.isTTY;
    await writeBody(response, sink, {
      progressTo: stderrIsTTY && !sink.terminal && !ctx.flags.quiet ? (text) => out.stderr(text) : undefined,
      warn: (text) => ctx.printer.warn(text),
    });
  } finally {
    await sink.close();
  }
  if (failed) throw httpError(connection.name, request, response);
  if (ctx.flags.json) ctx.printer.data("", { connection: connection.name, status: response.status, headers: Object.fromEntries(response.headers), output: flags.output });
}

/** Every page's records, written as they arrive; a failure mid-way keeps what was fetched. */
async function records(
  ctx: CliContext,
  connection: Connection,
  request: CallRequest,
  flags: CallFlags,
  options: { retry?: ApiRetryOptions; maxPages?: number },
): Promise<void> {
  const collect = ctx.flags.json && flags.output === undefined ? memorySink() : undefined;
  const sink: Sink = collect ?? (await openSink(flags.output, ctx.printer.out));
  const writer = flags.csv
    ? new CsvWriter(sink, flags.columns === undefined ? undefined : parseColumns(flags.columns), (text) => ctx.printer.warn(text), connection.name)
    : new RecordWriter(sink, flags.ndjson ? "ndjson" : "array");
  const paginate: PaginateOptions = {
    jsonpath: flags.jsonpath,
    next: flags.next,
    cursor: flags.cursor === undefined ? undefined : parseCursor(flags.cursor),
    maxPages: options.maxPages,
    retry: options.retry,
    init: { method: request.method, headers: request.headers, body: request.body },
    onPage: (page) => ctx.printer.verbose(`page ${page.number}: ${page.records} records`),
    onWarning: (message) => ctx.printer.warn(message),
  };
  try {
    for await (const record of connection.paginate(request.url, paginate)) await writer.add(record);
  } finally {
    await writer.end();
    await sink.close();
  }
  if (collect) ctx.printer.out.stdout(collect.text());
  ctx.printer.verbose(`${writer.written} records`);
}

function httpError(connection: string, request: CallRequest, response: Response): TokenSmithError {
  const where = `${request.url.origin}${request.url.pathname}`;
  const insufficientScope = response.status === 401 && isInsufficientScope(response.headers.get("www-authenticate"));
  const hint = insufficientScope
    ? "the token lacks a scope this API needs (the API said insufficient_scope, so no new token was asked for)"
    : response.status === 401
      ? `the API refused a freshly issued token too: check the connection's scopes, audience and resource (\`tokensmith test ${connection}\`); after a fix, \`tokensmith token ${connection} --force-refresh\` gets a token the API has not refused`
      : response.status === 403
        ? "the token lacks a permission this API needs (a scope?)"
        : undefined;
  return new TokenSmithError("http_error", `${request.method} ${where} answered ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`, {
    connection,
    status: response.status,
    error: insufficientScope ? "insufficient_scope" : undefined,
    url: where,
    hint,
  });
}

function parseRetry(value: string | undefined): ApiRetryOptions | undefined {
  if (value === undefined) return undefined;
  const max = Number(value);
  if (!Number.isInteger(max) || max < 0 || max > MAX_CLI_RETRIES) {
    throw new TokenSmithError("usage_error", `--retry must be a whole number from 0 to ${MAX_CLI_RETRIES} (got "${value}")`, { hint: "e.g. --retry 3" });
  }
  return { max };
}

function parseCursor(value: string): { param: string; jsonpath: string } {
  const eq = value.indexOf("=");
  if (eq <= 0 || eq === value.length - 1) {
    throw new TokenSmithError("usage_error", `--cursor "${value}" is not PARAM=JSONPATH`, { hint: "e.g. --cursor 'cursor=$.meta.next_cursor'" });
  }
  return { param: value.slice(0, eq), jsonpath: value.slice(eq + 1) };
}

function parseOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

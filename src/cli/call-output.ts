import { open, type FileHandle } from "node:fs/promises";
import { TokenSmithError } from "../errors.js";
import type { Output } from "./output.js";
import { downloadProgress, type Progress } from "./progress.js";

/**
 * Where `tokensmith call` puts a response (SPEC §3): stdout or `-o FILE`. On a terminal a JSON
 * body is pretty-printed and a binary one is not printed at all; anywhere else the bytes go
 * out exactly as they came, streamed. Paginated records are written as they arrive, as one
 * JSON array or as NDJSON, and the array is closed even when a later page fails.
 */
export interface Sink {
  /** The body goes to a terminal: pretty JSON, no raw binary. */
  readonly terminal: boolean;
  write(chunk: Uint8Array | string): Promise<void>;
  close(): Promise<void>;
}

/** `-o FILE` (created or truncated) or stdout; `-o -` is stdout taken as it is, raw even on a terminal (curl's). */
export async function openSink(path: string | undefined, out: Output): Promise<Sink> {
  if (path === undefined) return stdoutSink(out);
  if (path === "-") return { ...stdoutSink(out), terminal: false };
  let file: FileHandle;
  try {
    file = await open(path, "w");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    throw new TokenSmithError("usage_error", `cannot write ${path} (${code})`, { hint: "choose a folder that exists and is writable", cause: err });
  }
  return {
    terminal: false,
    write: async (chunk) => void (typeof chunk === "string" ? await file.write(chunk) : await file.write(chunk)),
    close: () => file.close(),
  };
}

function stdoutSink(out: Output): Sink {
  const decoder = new TextDecoder();
  return {
    terminal: out.isTTY,
    async write(chunk) {
      if (typeof chunk === "string") out.stdout(chunk);
      else if (out.stdoutBytes) await out.stdoutBytes(chunk);
      else out.stdout(decoder.decode(chunk, { stream: true }));
    },
    async close() {
      const rest = decoder.decode();
      if (rest) out.stdout(rest);
    },
  };
}

/** A sink that keeps everything, for `--json` (one document, printed at the end). */
export function memorySink(): Sink & { text(): string } {
  const chunks: string[] = [];
  const decoder = new TextDecoder();
  return {
    terminal: false,
    write: async (chunk) => void chunks.push(typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true })),
    close: async () => void chunks.push(decoder.decode()),
    text: () => chunks.join(""),
  };
}

/** `-i`: the status line and headers, as curl prints them. */
export function headerBlock(response: Response): string {
  const lines = [`HTTP/1.1 ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`];
  for (const [name, value] of response.headers) if (name !== "set-cookie") lines.push(`${name}: ${value}`);
  for (const cookie of response.headers.getSetCookie()) lines.push(`set-cookie: ${cookie}`);
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/**
 * The response body into the sink. `progressTo` is where a progress bar may be drawn (stderr
 * on a terminal, for bodies not going to that terminal); `warn` says why a body was held back.
 */
export async function writeBody(response: Response, sink: Sink, options: { progressTo?: (text: string) => void; warn: (text: string) => void }): Promise<void> {
  const type = response.headers.get("content-type") ?? "";
  if (sink.terminal && (isJson(type) || type === "")) {
    // An untyped body is shown pretty when it parses as JSON (prettyJson leaves anything else as it is).
    const text = prettyJson(await response.text());
    await sink.write(text);
    if (text !== "" && !text.endsWith("\n")) await sink.write("\n");
    return;
  }
  if (sink.terminal && !isText(type)) {
    await response.body?.cancel();
    options.warn(`the body (${type}) is not printed to the terminal; use -o FILE, -o - or a pipe`);
    return;
  }
  const length = Number(response.headers.get("content-length"));
  const progress: Progress | undefined = options.progressTo && downloadProgress(options.progressTo, Number.isFinite(length) && length > 0 ? length : undefined);
  let last: number | undefined;
  try {
    if (response.body) {
      for await (const chunk of response.body) {
        await sink.write(chunk);
        progress?.add(chunk.byteLength);
        if (chunk.byteLength > 0) last = chunk[chunk.byteLength - 1];
      }
    }
  } finally {
    progress?.done();
  }
  // On a terminal, text that does not end a line would run into the prompt; pipes get the bytes as they came.
  if (sink.terminal && last !== undefined && last !== 0x0a) await sink.write("\n");
}

/** Records of paginated calls, written one by one: a JSON array (pretty on a terminal) or NDJSON. */
export class RecordWriter {
  private count = 0;

  constructor(
    private readonly sink: Sink,
    private readonly format: "array" | "ndjson",
  ) {}

  get written(): number {
    return this.count;
  }

  async add(record: unknown): Promise<void> {
    const pretty = this.sink.terminal;
    if (this.format === "ndjson") {
      await this.sink.write(`${JSON.stringify(record)}\n`);
    } else {
      const text = pretty ? JSON.stringify(record, null, 2).replace(/\n/g, "\n  ") : JSON.stringify(record);
      await this.sink.write(`${this.count === 0 ? "[" : ","}${pretty ? "\n  " : ""}${text}`);
    }
    this.count++;
  }

  /** Close the array (also after a failure, so what was fetched stays valid JSON). */
  async end(): Promise<void> {
    if (this.format === "ndjson") return;
    await this.sink.write(this.count === 0 ? "[]\n" : this.sink.terminal ? "\n]\n" : "]\n");
  }
}

/** Pretty JSON with a final newline; text that is not JSON after all is printed as it is. */
export function prettyJson(text: string): string {
  try {
    return `${JSON.stringify(JSON.parse(text), null, 2)}\n`;
  } catch {
    return text;
  }
}

function isJson(type: string): boolean {
  return /^(?:application|text)\/(?:[\w.+-]+\+)?json\b/i.test(type);
}

/** Bodies a terminal can show: no type given, text/*, JSON, XML, forms, JavaScript. */
function isText(type: string): boolean {
  return type === "" || /^text\/|json|xml|x-www-form-urlencoded|javascript/i.test(type);
}

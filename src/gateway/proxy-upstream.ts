import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import type { Dispatcher } from "undici";

/**
 * One attempt of the data gateway's proxy (proxy.ts) at the API, on the connection's undici
 * dispatcher (keep-alive, its proxy and TLS settings; transport.ts `route`). undici's
 * dispatcher API leaves bodies as they are: no decoding, `Content-Encoding` and length kept.
 * The response's head resolves `exchange`; its body then waits (undici's parser paused) until
 * the proxy `forward`s it to the client or `discard`s it (a response it retries). Forwarding
 * writes undici's chunks straight to the client's socket and pauses the API's socket while
 * the client's is full: constant memory, no stream objects in between.
 */

/** A request body: none, held in memory (replayable), or streaming from here on. */
export type Body = { kind: "none"; length?: "0" } | { kind: "held"; data: Buffer } | { kind: "stream"; head: Buffer[]; rest: IncomingMessage };

/** What one attempt sends. */
export interface Attempt {
  origin: string;
  /** Path and query, as sent on the request line. */
  path: string;
  method: string;
  /** Header names (lower case) and values; an object, as undici's HTTP proxy wrapper wants (it spreads them). */
  headers: Record<string, string | string[]>;
  body: Body;
  timeoutMs: number;
  /** Told of request body bytes sent. */
  uploaded(bytes: number): void;
}

/** The API's answer: its head, and its body held back until `forward` or `discard`. */
export interface Answer {
  status: number;
  statusText: string;
  /** Header names and values, alternating, as they came. */
  headers: string[];
  /** A header's value (several joined with ", "), for the retry policy. */
  header(name: string): string | undefined;
  /** Writes the head (status and `headers`) and streams the body to `res`; resolves when done or cut. */
  forward(res: ServerResponse, headers: string[], downloaded: (bytes: number) => void): Promise<void>;
  /** Reads the body away unseen (the connection stays usable). */
  discard(): void;
}

/** Sends `attempt` on `dispatcher`; resolves with the answer's head, rejects if none came. */
export function exchange(dispatcher: Dispatcher, attempt: Attempt): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const handler = new Exchange(resolve, reject);
    dispatcher.dispatch(
      { origin: attempt.origin, path: attempt.path, method: attempt.method as Dispatcher.HttpMethod, headers: attempt.headers, body: bodyOf(attempt.body, attempt.uploaded), headersTimeout: attempt.timeoutMs, bodyTimeout: attempt.timeoutMs },
      handler as unknown as Dispatcher.DispatchHandler,
    );
  });
}

function bodyOf(body: Body, uploaded: (bytes: number) => void): Buffer | Readable | null {
  if (body.kind === "none") return null;
  if (body.kind === "held") {
    uploaded(body.data.length);
    return body.data;
  }
  return Readable.from(streamed(body, uploaded), { objectMode: false });
}

async function* streamed(body: { head: Buffer[]; rest: IncomingMessage }, uploaded: (bytes: number) => void): AsyncIterable<Buffer> {
  for (const chunk of body.head) {
    uploaded(chunk.length);
    yield chunk;
  }
  for await (const chunk of body.rest as AsyncIterable<Buffer>) {
    uploaded(chunk.length);
    yield chunk;
  }
}

/** undici's callback handler API (the one its core speaks: no conversion per response). Exported for its tests. */
export class Exchange implements Answer {
  status = 0;
  statusText = "";
  headers: string[] = [];
  private abort?: (err: Error) => void;
  private resume?: () => void;
  private sink?: ServerResponse;
  private downloaded?: (bytes: number) => void;
  private done?: () => void;
  private discarding = false;
  /** Body chunks that came before `forward` (a dispatcher beneath may not pause at the head). */
  private early?: Buffer[];
  private complete = false;
  private headed = false;
  /** The API's side broke after the head, before `forward` (a token refresh, a dropped 401 token in between). */
  private failure?: Error;

  constructor(
    private readonly resolve: (answer: Answer) => void,
    private readonly reject: (err: Error) => void,
  ) {}

  onConnect(abort: (err: Error) => void): void {
    this.abort = abort;
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    // 1xx (Continue, Early Hints) are this hop's own.
    if (status < 200) return true;
    this.status = status;
    this.statusText = statusText ?? "";
    const headers = new Array<string>(raw.length);
    for (let i = 0; i < raw.length; i++) headers[i] = raw[i].toString("latin1");
    this.headers = headers;
    this.resume = resume;
    this.headed = true;
    this.resolve(this);
    // Paused until the proxy forwards or discards the body.
    return false;
  }

  onData(chunk: Buffer): boolean {
    const sink = this.sink;
    if (!sink) {
      if (!this.discarding) (this.early ??= []).push(chunk);
      return true;
    }
    this.downloaded!(chunk.length);
    if (sink.write(chunk)) return true;
    sink.once("drain", this.resume!);
    return false;
  }

  onComplete(): void {
    this.complete = true;
    if (!this.sink) return;
    this.sink.end();
    this.done!();
  }

  onError(err: Error): void {
    if (!this.headed) return this.reject(err);
    // A broken side ends the other: the client sees a cut response, never a wrong one.
    if (this.sink) {
      this.sink.destroy();
      this.done!();
      return;
    }
    // Nothing forwarded yet: `forward` fails with it (the client gets the gateway's error, not a hang).
    this.failure = err;
  }

  onUpgrade(): void {}

  header(name: string): string | undefined {
    let value: string | undefined;
    for (let i = 0; i < this.headers.length; i += 2) {
      if (this.headers[i].length === name.length && this.headers[i].toLowerCase() === name) value = value === undefined ? this.headers[i + 1] : `${value}, ${this.headers[i + 1]}`;
    }
    return value;
  }

  forward(res: ServerResponse, headers: string[], downloaded: (bytes: number) => void): Promise<void> {
    // The client left while the API was answering: nobody to forward to (a 'drain' would never come).
    if (res.destroyed) {
      this.early = undefined;
      if (!this.complete) this.abort?.(new Error("the client went away"));
      return Promise.resolve();
    }
    if (this.failure && !this.complete) {
      this.early = undefined;
      return Promise.reject(this.failure);
    }
    res.writeHead(this.status, this.statusText || undefined, headers);
    return new Promise((resolve) => {
      this.done = resolve;
      for (const chunk of this.early ?? []) {
        downloaded(chunk.length);
        res.write(chunk);
      }
      this.early = undefined;
      if (this.complete) {
        res.end();
        return resolve();
      }
      this.sink = res;
      this.downloaded = downloaded;
      res.once("close", () => {
        if (res.writableFinished || this.complete) return;
        this.abort?.(new Error("the client went away"));
        resolve();
      });
      this.resume!();
    });
  }

  discard(): void {
    this.early = undefined;
    if (this.discarding || this.complete) return;
    this.discarding = true;
    this.resume!();
  }
}

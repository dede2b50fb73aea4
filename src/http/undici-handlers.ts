import type { Duplex } from "node:stream";
import type { Dispatcher } from "undici";
import type { HeaderReader } from "./call.js";

/**
 * The two handler shapes undici v7 accepts, both thin shells around one `Attempt` (undici.ts)
 * that decides, from a response's status and headers, whether to hold it back (a 401 or a
 * retryable status: then the attempt either sends again or replays it as it came).
 *
 * `LegacyHandler` is used when the caller's handler speaks undici's older callback API
 * (`undici.request`'s does): handing the same shape down spares undici from converting every
 * response back and forth, which alone cost ~8% of loopback throughput.
 */

/** What a handler shell needs from its attempt. */
export interface AttemptCore {
  /** A response arrived: true to hold it back from the caller. */
  hold(status: number, header: HeaderReader): boolean;
  /** The held response ended: send again, or `replay` it to the caller. */
  settle(replay: () => void): void;
  /** The error that stops a request a redirect handler beneath us would follow unseen. */
  followedBeneath(): Error;
}

/**
 * True when the request-start context comes through undici's RedirectHandler (it adds the
 * chain's `history`): a redirect interceptor is composed inside ours, so it would follow
 * redirects without us seeing the hops, with our token header on them (only `Authorization`
 * is stripped by undici on a cross-origin hop).
 */
function followsBeneath(context: unknown): boolean {
  return Array.isArray((context as { history?: unknown } | undefined)?.history);
}

type Headers = Record<string, string | string[] | undefined>;

/** The current handler API (`onRequestStart`, `onResponseStart`, ...). */
export class ModernHandler implements Dispatcher.DispatchHandler {
  private held?: { controller: Dispatcher.DispatchController; status: number; headers: Headers; message?: string; chunks: Buffer[] };

  constructor(
    private readonly attempt: AttemptCore,
    private readonly handler: Dispatcher.DispatchHandler,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.handler.onRequestStart?.(controller, context);
    // Aborted here, before undici writes the request: nothing is sent.
    if (followsBeneath(context)) controller.abort(this.attempt.followedBeneath());
  }

  onRequestUpgrade(controller: Dispatcher.DispatchController, status: number, headers: Headers, socket: Duplex): void {
    this.handler.onRequestUpgrade?.(controller, status, headers, socket);
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: Headers, message?: string): void {
    if (this.attempt.hold(status, parsedReader(headers))) {
      this.held = { controller, status, headers, message, chunks: [] };
      return;
    }
    this.handler.onResponseStart?.(controller, status, headers, message);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.held) this.held.chunks.push(Buffer.from(chunk));
    else this.handler.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: Headers): void {
    const held = this.held;
    if (!held) return this.handler.onResponseEnd?.(controller, trailers);
    this.attempt.settle(() => {
      this.handler.onResponseStart?.(held.controller, held.status, held.headers, held.message);
      for (const chunk of held.chunks) this.handler.onResponseData?.(held.controller, chunk);
      this.handler.onResponseEnd?.(controller, trailers);
    });
  }

  onResponseError(controller: Dispatcher.DispatchController, err: Error): void {
    this.handler.onResponseError?.(controller, err);
  }
}

/** The older callback API (`onConnect`, `onHeaders`, `onData`, `onComplete`, `onError`). */
export class LegacyHandler {
  private held?: { status: number; rawHeaders: Buffer[]; resume: () => void; statusText: string; chunks: Buffer[] };

  constructor(
    private readonly attempt: AttemptCore,
    private readonly handler: Required<Pick<Dispatcher.DispatchHandler, "onHeaders" | "onData" | "onComplete" | "onError">> & Dispatcher.DispatchHandler,
  ) {}

  onConnect(abort: (err?: Error) => void, context?: unknown): void {
    (this.handler.onConnect as (abort: (err?: Error) => void, context?: unknown) => void)?.(abort, context);
    if (followsBeneath(context)) abort(this.attempt.followedBeneath());
  }

  onResponseStarted(): void {
    this.handler.onResponseStarted?.();
  }

  onUpgrade(status: number, rawHeaders: Buffer[] | string[] | null, socket: Duplex): void {
    this.handler.onUpgrade?.(status, rawHeaders, socket);
  }

  onBodySent(size: number, total: number): void {
    this.handler.onBodySent?.(size, total);
  }

  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (status >= 200 && this.attempt.hold(status, rawReader(rawHeaders))) {
      this.held = { status, rawHeaders, resume, statusText, chunks: [] };
      return true;
    }
    return this.handler.onHeaders(status, rawHeaders, resume, statusText);
  }

  onData(chunk: Buffer): boolean {
    if (!this.held) return this.handler.onData(chunk);
    this.held.chunks.push(Buffer.from(chunk));
    return true;
  }

  onComplete(trailers: string[] | null): void {
    const held = this.held;
    if (!held) return this.handler.onComplete(trailers);
    this.attempt.settle(() => {
      this.handler.onHeaders(held.status, held.rawHeaders, held.resume, held.statusText);
      for (const chunk of held.chunks) this.handler.onData(chunk);
      this.handler.onComplete(trailers);
    });
  }

  onError(err: Error): void {
    this.handler.onError(err);
  }
}

/** True when `handler` speaks the older API (then a LegacyHandler is handed down). */
export function isLegacy(handler: Dispatcher.DispatchHandler): handler is LegacyHandler["handler"] {
  return typeof handler.onHeaders === "function" && typeof handler.onData === "function" && typeof handler.onComplete === "function" && typeof handler.onError === "function";
}

/** undici's parsed response headers (lower-case names; repeated ones as arrays). */
function parsedReader(headers: Headers): HeaderReader {
  return (name) => {
    const value = headers[name];
    return Array.isArray(value) ? value.join(", ") : value;
  };
}

/** Raw `[name, value, name, value, ...]` response headers, looked up only when asked. */
function rawReader(raw: Buffer[]): HeaderReader {
  return (name) => {
    const found: string[] = [];
    for (let i = 0; i < raw.length; i += 2) if (raw[i].toString("latin1").toLowerCase() === name) found.push(raw[i + 1].toString("latin1"));
    return found.length ? found.join(", ") : undefined;
  };
}

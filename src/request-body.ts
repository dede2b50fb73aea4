import type { IncomingMessage } from "node:http";

/**
 * The body of a request to one of tokensmith's own servers (the gateway, the demo's routes),
 * as text, at most `maxBytes`; a larger one is a RangeError, read no further.
 */
export async function readRequestBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new RangeError("request body too large");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

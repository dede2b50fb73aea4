/**
 * One line from a stream (stdin for `login --manual`): resolves with the first line, or with
 * what there was ("" for nothing) when the stream ends first. Stops reading after that line,
 * so a pasted line never lands anywhere else. node:readline is loaded here, not at start.
 */
export async function readLine(input: NodeJS.ReadableStream): Promise<string> {
  const { createInterface } = await import("node:readline");
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input, terminal: false, crlfDelay: Infinity });
    let done = false;
    const finish = (line: string) => {
      if (done) return;
      done = true;
      lines.close();
      (input as { pause?: () => void }).pause?.();
      resolve(line);
    };
    lines.once("line", finish);
    lines.once("close", () => finish(""));
    input.once("error", (err) => {
      if (!done) {
        done = true;
        lines.close();
        reject(err);
      }
    });
  });
}

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { downloadProgress, formatBytes, progressLine, PROGRESS_DELAY_MS, PROGRESS_REDRAW_MS } from "../../src/cli/progress.js";

describe("the download progress bar", () => {
  it("stays hidden for short downloads, then redraws at most ten times a second and clears its line", () => {
    let now = 0;
    const drawn: string[] = [];
    const bar = downloadProgress((text) => drawn.push(text), 4096, () => now);
    bar.add(1024);
    now = PROGRESS_DELAY_MS - 1;
    bar.add(1024);
    assert.equal(drawn.length, 0);
    now = PROGRESS_DELAY_MS;
    bar.add(1024);
    now += PROGRESS_REDRAW_MS / 2;
    bar.add(512);
    assert.equal(drawn.length, 1);
    assert.match(drawn[0], /\[#{18}-{6}\] {2}75% 3\.0 KiB \/ 4\.0 KiB/);
    bar.done();
    assert.equal(drawn.at(-1), "\r\x1b[2K");
  });

  it("draws nothing at all, not even a clear, for a download that was never long", () => {
    const drawn: string[] = [];
    const bar = downloadProgress((text) => drawn.push(text), undefined, () => 0);
    bar.add(10);
    bar.done();
    assert.deepEqual(drawn, []);
  });

  it("shows bytes and rate when the size is unknown", () => {
    assert.equal(progressLine(3 * 1024 * 1024, undefined, 2), "3.0 MiB  1.5 MiB/s");
    assert.equal(formatBytes(999), "999 B");
    assert.equal(formatBytes(1536), "1.5 KiB");
  });
});

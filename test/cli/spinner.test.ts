import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { formatRemaining, startSpinner } from "../../src/cli/spinner.js";

describe("the terminal spinner", () => {
  it("formats the time left as minutes and seconds, rounded up", () => {
    assert.equal(formatRemaining(300_000), "5:00");
    assert.equal(formatRemaining(245_000), "4:05");
    assert.equal(formatRemaining(59_001), "1:00");
    assert.equal(formatRemaining(400), "0:01");
    assert.equal(formatRemaining(-5), "0:00");
  });

  it("redraws one line in place and clears it when stopped", async () => {
    const writes: string[] = [];
    let left = 3;
    const spinner = startSpinner((text) => void writes.push(text), () => `waiting… ${left--} left`, 10);
    await sleep(35);
    spinner.stop();
    spinner.stop();
    const count = writes.length;
    await sleep(30);
    assert.equal(writes.length, count, "nothing is drawn after stop");
    assert.ok(count >= 3, `drew ${count} times`);
    assert.match(writes[0], /^\r\x1b\[2K⠋ waiting… 3 left$/);
    assert.match(writes[1], /^\r\x1b\[2K⠙ waiting… 2 left$/);
    assert.equal(writes.at(-1), "\r\x1b[2K");
    assert.ok(writes.every((w) => !w.includes("\n")), "never a new line");
  });
});

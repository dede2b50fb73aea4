import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SingleFlight } from "../../src/lifecycle/flight.js";

/** Work that finishes when told to, or rejects when its signal aborts. */
function controllable() {
  let finish!: (value: string) => void;
  let started = 0;
  let aborted = 0;
  const work = (signal: AbortSignal) => {
    started++;
    return new Promise<string>((resolve, reject) => {
      finish = resolve;
      signal.addEventListener("abort", () => {
        aborted++;
        reject(signal.reason);
      });
    });
  };
  return { work, finish: (value: string) => finish(value), counts: () => ({ started, aborted }) };
}

describe("SingleFlight", () => {
  it("shares one run among concurrent callers", async () => {
    const flights = new SingleFlight<string>();
    const w = controllable();
    const both = [flights.run("k", w.work), flights.run("k", w.work)];
    w.finish("done");
    assert.deepEqual(await Promise.all(both), ["done", "done"]);
    assert.deepEqual(w.counts(), { started: 1, aborted: 0 });
  });

  it("stops the work only when every caller has left, and a caller without a signal keeps it going", async () => {
    const flights = new SingleFlight<string>();
    const w = controllable();
    const a = new AbortController();
    const b = new AbortController();
    const first = flights.run("k", w.work, a.signal);
    const second = flights.run("k", w.work, b.signal);
    a.abort();
    await assert.rejects(first, { name: "AbortError" });
    assert.equal(w.counts().aborted, 0, "one caller left, the other still waits");
    b.abort();
    await assert.rejects(second, { name: "AbortError" });
    assert.equal(w.counts().aborted, 1, "nobody waits: the work is told to stop");

    const anchored = controllable();
    const c = new AbortController();
    const leaving = flights.run("j", anchored.work, c.signal);
    const staying = flights.run("j", anchored.work);
    c.abort();
    await assert.rejects(leaving, { name: "AbortError" });
    anchored.finish("kept");
    assert.equal(await staying, "kept");
    assert.equal(anchored.counts().aborted, 0);
  });

  it("starts afresh for a caller that comes after the work was given up", async () => {
    const flights = new SingleFlight<string>();
    const old = controllable();
    const a = new AbortController();
    const first = flights.run("k", old.work, a.signal);
    a.abort();
    await assert.rejects(first, { name: "AbortError" });
    const fresh = controllable();
    const later = flights.run("k", fresh.work);
    fresh.finish("new");
    assert.equal(await later, "new");
    assert.equal(fresh.counts().started, 1);
  });
});

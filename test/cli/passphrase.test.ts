import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { promptHidden, readPassphrase, type Terminal } from "../../src/cli/passphrase.js";

/** A stand-in terminal: `keys` are typed one chunk at a time; echo must stay off. */
function fakeTerminal(keys: string[]) {
  const input = Object.assign(new PassThrough(), { rawModes: [] as boolean[], setRawMode(raw: boolean) { this.rawModes.push(raw); } });
  let shown = "";
  let closed = false;
  const terminal: Terminal = {
    input,
    output: { write: (text: string) => (shown += text) },
    close: () => (closed = true),
  };
  // Type after the prompt has started listening.
  const type = async () => {
    for (const key of keys) {
      await new Promise((resolve) => setImmediate(resolve));
      input.write(key);
    }
  };
  return { terminal, input, type, shown: () => shown, closed: () => closed };
}

describe("reading a passphrase", () => {
  it("takes $TOKENSMITH_PASSPHRASE without touching the terminal", async () => {
    const passphrase = await readPassphrase({ confirm: true, env: { TOKENSMITH_PASSPHRASE: "from the env" }, terminal: () => assert.fail("no terminal") });
    assert.equal(passphrase, "from the env");
  });

  it("reads a line with echo off, honouring backspace, and restores the terminal", async () => {
    const fake = fakeTerminal(["secx", "\u007f", "ret\r"]);
    const [text] = await Promise.all([promptHidden(fake.terminal, "Passphrase: "), fake.type()]);
    assert.equal(text, "secret");
    assert.equal(fake.shown(), "Passphrase: \n", "nothing typed is echoed");
    assert.deepEqual(fake.input.rawModes, [true, false]);
  });

  it("asks twice for an export and refuses two different answers", async () => {
    const same = fakeTerminal(["one two\r", "one two\r"]);
    const [ok] = await Promise.all([readPassphrase({ confirm: true, env: {}, terminal: () => same.terminal }), same.type()]);
    assert.equal(ok, "one two");
    assert.ok(same.closed());
    const differ = fakeTerminal(["one two\r", "one too\r"]);
    await Promise.all([
      assert.rejects(readPassphrase({ confirm: true, env: {}, terminal: () => differ.terminal }), /the two passphrases differ/),
      differ.type(),
    ]);
    assert.ok(differ.closed());
  });

  it("runs the export's check on the first entry, before asking again, and on $TOKENSMITH_PASSPHRASE", async () => {
    const check = (value: string) => {
      if (value.length < 12) throw new Error("too short");
    };
    const fake = fakeTerminal(["short\r", "short\r"]);
    await Promise.all([assert.rejects(readPassphrase({ confirm: true, env: {}, terminal: () => fake.terminal, check }), /too short/), fake.type()]);
    assert.equal(fake.shown(), "Passphrase: \n", "the confirmation is never asked");
    assert.ok(fake.closed());
    await assert.rejects(readPassphrase({ confirm: true, env: { TOKENSMITH_PASSPHRASE: "short" }, check }), /too short/);
  });

  it("is cancelled by Ctrl-C, and is a usage error without a terminal or variable", async () => {
    const fake = fakeTerminal(["abc\u0003"]);
    await Promise.all([assert.rejects(promptHidden(fake.terminal, "Passphrase: "), /cancelled/), fake.type()]);
    await assert.rejects(readPassphrase({ confirm: false, env: {}, terminal: () => undefined }), (err: any) => err.code === "usage_error" && /TOKENSMITH_PASSPHRASE/.test(err.message));
  });
});

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { browserCommands, openInBrowser } from "../../src/flows/browser.js";
import { tmpDir } from "../support/demo.js";

const URL_WITH_SHELL_CHARACTERS = "https://auth.example.com/authorize?a=1&b=$(touch PWNED)&c='x'`y`;d=\"e\"|f";

describe("choosing the browser command", () => {
  it("runs $BROWSER with the URL appended as one argument", () => {
    assert.deepEqual(browserCommands("https://x/?a=1&b=2", { BROWSER: "firefox --new-window" }, "linux"), [
      { command: "firefox", args: ["--new-window", "https://x/?a=1&b=2"] },
    ]);
  });

  it("puts the URL where $BROWSER says %s, and tries a PATH-like list in order", () => {
    assert.deepEqual(browserCommands("https://x/", { BROWSER: "w3m --url=%s:lynx" }, "linux"), [
      { command: "w3m", args: ["--url=https://x/"] },
      { command: "lynx", args: ["https://x/"] },
    ]);
  });

  it("splits $BROWSER on semicolons on Windows, where paths have colons", () => {
    assert.deepEqual(browserCommands("https://x/", { BROWSER: "C:\\b\\chrome.exe;firefox" }, "win32"), [
      { command: "C:\\b\\chrome.exe", args: ["https://x/"] },
      { command: "firefox", args: ["https://x/"] },
    ]);
  });

  it("falls back to the system opener when $BROWSER is unset or empty", () => {
    assert.deepEqual(browserCommands("https://x/", {}, "linux"), [{ command: "xdg-open", args: ["https://x/"] }]);
    assert.deepEqual(browserCommands("https://x/", { BROWSER: "  " }, "darwin"), [{ command: "open", args: ["https://x/"] }]);
    assert.deepEqual(browserCommands("https://x/", {}, "win32"), [{ command: "rundll32.exe", args: ["url.dll,FileProtocolHandler", "https://x/"] }]);
  });
});

describe("opening a URL", () => {
  it("hands the URL to $BROWSER untouched, without a shell", async (t) => {
    const dir = await tmpDir(t);
    const record = join(dir, "argv.json");
    const script = join(dir, "record.mjs");
    await writeFile(script, `import { writeFileSync } from "node:fs"; writeFileSync(${JSON.stringify(record)}, JSON.stringify(process.argv.slice(2)));`);
    const opened = await openInBrowser(URL_WITH_SHELL_CHARACTERS, { env: { BROWSER: `${process.execPath} ${script}` } });
    assert.equal(opened, true);
    assert.deepEqual(JSON.parse(await readFile(record, "utf8")), [URL_WITH_SHELL_CHARACTERS]);
    assert.equal(existsSync(join(dir, "PWNED")), false);
    assert.equal(existsSync("PWNED"), false);
  });

  it("returns false instead of throwing when no opener exists", async () => {
    assert.equal(await openInBrowser("https://x/", { env: { BROWSER: "/nonexistent/tokensmith-test-browser" } }), false);
  });

  it("moves on to the next $BROWSER entry when one fails at once", async (t) => {
    const dir = await tmpDir(t);
    const record = join(dir, "argv.json");
    const script = join(dir, "record.mjs");
    await writeFile(script, `import { writeFileSync } from "node:fs"; writeFileSync(${JSON.stringify(record)}, process.argv[2]);`);
    const failing = join(dir, "fail.mjs");
    await writeFile(failing, "process.exit(3);");
    const opened = await openInBrowser("https://x/", { env: { BROWSER: `${process.execPath} ${failing}:${process.execPath} ${script}` } });
    assert.equal(opened, true);
    assert.equal(await readFile(record, "utf8"), "https://x/");
  });

  it("takes a command still running after the grace time to have opened the URL", async () => {
    const started = Date.now();
    const opened = await openInBrowser("https://x/", { env: { BROWSER: `${process.execPath} -e setTimeout(()=>{},2000)` }, graceMs: 100 });
    assert.equal(opened, true);
    assert.ok(Date.now() - started < 1500, "did not wait for the browser to exit");
  });
});

import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { run } from "../../src/cli/main.js";
import { withDemoServer } from "../support/demo.js";
import { writeLoginConfig } from "./cli-support.js";

/** `tokensmith login` run in this process from src/ (no build), its stderr watched as it is written. */
async function login(args: string[], onStderr: (soFar: string) => void) {
  let stdout = "";
  let stderr = "";
  const out = { stdout: (t: string) => void (stdout += t), stderr: (t: string) => void onStderr((stderr += t)), isTTY: false };
  const code = await run(args, out, Readable.from([""]));
  return { code, stdout, stderr };
}

describe("tokensmith login --device (in process)", () => {
  it("with --no-browser also prints verification_uri_complete, the URL with the code filled in", async (t) => {
    const server = await withDemoServer(t, { autoLogin: true, devicePolling: { interval: 1, slowDownStep: 1 } });
    const { path } = await writeLoginConfig(t, server);
    let approved = false;
    const result = await login(["--config", path, "login", "demo-user", "--device", "--no-browser"], (stderr) => {
      const complete = /^ {2}(http:\/\/\S+\/device\?user_code=([A-Z]{4}-[A-Z]{4}))$/m.exec(stderr);
      if (complete && !approved) {
        approved = true;
        void server.approveDeviceCode(complete[2]);
      }
    });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(approved, result.stderr);
    assert.match(result.stderr, /enter the code:\n\n {2}[A-Z]{4}-[A-Z]{4}\n/);
    assert.match(result.stderr, /or open this URL, which has the code filled in:/);
  });

  it("names --device in the hint when the device login is not approved in time: exit 3", async (t) => {
    const server = await withDemoServer(t, { autoLogin: true, devicePolling: { interval: 1, slowDownStep: 1 } });
    const { path } = await writeLoginConfig(t, server);
    const result = await login(["--config", path, "login", "demo-user", "--device", "--no-browser", "--timeout", "1"], () => {});
    assert.equal(result.code, 3);
    assert.match(result.stderr, /not approved within 1 s/);
    assert.match(result.stderr, /hint: run `tokensmith login demo-user --device` again/);
  });
});

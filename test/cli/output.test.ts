import assert from "node:assert/strict";
import { it } from "node:test";
import { Printer } from "../../src/cli/output.js";
import { TokenSmithError } from "../../src/errors.js";

it("redacts every text of a --json error, the server's description and the URL included", () => {
  let stdout = "";
  const printer = new Printer({ stdout: (t) => void (stdout += t), stderr: () => {}, isTTY: false }, { json: true });
  const err = new TokenSmithError("oauth_error", "refused", {
    connection: "billing",
    status: 400,
    error: "invalid_request",
    errorDescription: "got client_secret=abc123secret",
    url: "https://auth.example.com/token?access_token=leaked-token-value",
  });
  assert.equal(printer.error(err), 3);
  const { error } = JSON.parse(stdout);
  assert.deepEqual(Object.keys(error).slice(0, 4), ["code", "message", "hint", "connection"]);
  assert.equal(error.connection, "billing");
  assert.equal(error.status, 400);
  assert.ok(!stdout.includes("abc123secret") && !stdout.includes("leaked-token-value"), stdout);
});

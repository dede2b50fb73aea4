import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { stringify } from "yaml";
import { startGateway } from "../../src/gateway/start.js";
import { cli, type CliResult } from "../support/cli.js";
import { tmpDir } from "../support/demo.js";

/**
 * A hostile authorization server (SPEC §2.14): it echoes the Basic header's credentials back
 * as base64, in a JSON error description or an HTML error page, and puts terminal escapes in
 * everything it says. Nothing of either may reach the terminal, `--json`, the stored last
 * error (`status`) or the gateway.
 */
const CLIENT_ID = "hostile-client";
// `*`, `-`, `.`, `_` and a space: form and raw Basic encodings differ.
const CLIENT_SECRET = "s3cret-with.odd_chars*and space";
const ESC = "\u001b";
const ATTACK = `${ESC}]0;pwned${ESC}\\${ESC}[2J\u009b31m`;

function handler(echoed: Set<string>) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    req.resume();
    req.on("end", () => {
      const credentials = (req.headers.authorization ?? "").replace(/^Basic /, "");
      echoed.add(credentials);
      if (req.url === "/json") {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "invalid_request", error_description: `cannot parse ${credentials} ${ATTACK}` }));
      } else if (req.url === "/html") {
        res.writeHead(400, { "content-type": "text/html" });
        res.end(`<html><body><h1>Bad request ${ATTACK}</h1><p>credentials: ${credentials}</p></body></html>`);
      } else {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ access_token: "at-0123456789", token_type: `Bear${ESC}er`, expires_in: 3600, scope: `read${ATTACK} write` }));
      }
    });
  };
}

/** The server, its config, and the Basic credentials it was sent (filled in as requests arrive). */
async function hostileSetup(t: TestContext): Promise<{ configPath: string; base64: Set<string> }> {
  const base64 = new Set<string>();
  const server = createServer(handler(base64));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const dir = await tmpDir(t);
  const connection = (path: string, encoding: string) => ({
    grant: "client_credentials",
    token_url: `${url}${path}`,
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    client_auth: "basic",
    basic_encoding: encoding,
  });
  const config = {
    store: { type: "file", dir: join(dir, "store") },
    gateway: { port: 0, api_keys: [{ key: "hostile-test-key-0123456789" }] },
    connections: {
      "json-form": connection("/json", "form"),
      "json-raw": connection("/json", "raw"),
      "html-form": connection("/html", "form"),
      "html-raw": connection("/html", "raw"),
      escapes: connection("/token", "raw"),
    },
  };
  const configPath = join(dir, "tokensmith.yaml");
  await writeFile(configPath, stringify(config), { mode: 0o600 });
  return { configPath, base64 };
}

function assertClean(where: string, text: string, base64: Set<string>): void {
  assert.ok(base64.size > 0, "the server saw Basic credentials");
  for (const encoded of base64) assert.ok(!text.includes(encoded), `${where} shows the Basic credentials: ${text}`);
  assert.ok(!text.includes(CLIENT_SECRET), `${where} shows the client secret`);
  assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(text), `${where} holds control characters: ${JSON.stringify(text)}`);
}

describe("a hostile token endpoint", () => {
  it("cannot get the Basic credentials it echoes back printed by the CLI, --json or status", async (t) => {
    const { configPath, base64 } = await hostileSetup(t);
    const outputs: Array<[string, CliResult]> = [];
    for (const name of ["json-form", "json-raw", "html-form", "html-raw"]) {
      for (const args of [["token", name], ["token", name, "--json"], ["token", name, "--verbose"], ["status", name], ["status", name, "--json"]]) {
        outputs.push([args.join(" "), await cli([...args, "--config", configPath])]);
      }
    }
    for (const [command, { stdout, stderr }] of outputs) {
      assertClean(`stdout of \`${command}\``, stdout, base64);
      assertClean(`stderr of \`${command}\``, stderr, base64);
    }
    const refused = outputs.find(([c]) => c === "token json-form")![1];
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /cannot parse \[redacted\]/, "the server's words are shown, the credentials not");
    const json = JSON.parse(outputs.find(([c]) => c === "token json-raw --json")![1].stdout);
    assert.match(json.error.error_description, /^cannot parse \[redacted\] \]0;pwned/);
  });

  it("cannot get them, or its escapes, shown by the gateway's API and dashboard data", async (t) => {
    const { configPath, base64 } = await hostileSetup(t);
    const gateway = await startGateway({ config: configPath, env: {} });
    t.after(() => gateway.close());
    const get = async (path: string) => {
      const res = await fetch(`${gateway.url}${path}`, { headers: { authorization: "Bearer hostile-test-key-0123456789" } });
      return res.text();
    };
    for (const name of ["json-form", "json-raw", "html-form", "html-raw"]) {
      const { error } = JSON.parse(await get(`/v1/connections/${name}/token`));
      assert.match(error.code, /^(oauth_error|invalid_response)$/);
      assertClean(`the gateway's error for ${name}`, `${error.message} ${error.error_description} ${error.hint}`, base64);
    }
    const rows = JSON.parse(await get("/v1/connections"));
    assertClean("the gateway's connection list (the dashboard's data)", JSON.stringify(rows, (_k, v) => v), base64);
    for (const text of Object.values(JSON.parse(await get("/v1/connections"))).flat().map((r) => JSON.stringify(r))) {
      assert.ok(!/\\u001b|\\u009b/.test(text), `a control character in ${text}`);
    }
  });

  it("gets its token_type and scope shown without control characters", async (t) => {
    const { configPath, base64 } = await hostileSetup(t);
    const token = await cli(["token", "escapes", "--json", "--config", configPath]);
    assert.equal(token.code, 0, token.stderr);
    const info = JSON.parse(token.stdout);
    assert.equal(info.token_type, "Bearer");
    assert.equal(info.scope, "read]0;pwned\\[2J31m write");
    const status = await cli(["status", "escapes", "--config", configPath]);
    assertClean("status", status.stdout + status.stderr, base64);
    assert.match(status.stdout, /read\]0;pwned/);
  });
});

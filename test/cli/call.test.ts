import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, it, type TestContext } from "node:test";
import { run } from "../../src/cli/main.js";
import { writeDemoConfig } from "../../src/demo/config.js";
import type { DemoServer } from "../../src/demo/server.js";
import { json, recordingServer } from "../http/support.js";
import { tmpDir, withDemoServer } from "../support/demo.js";

/** The CLI in this process; stdout is captured as bytes, as a pipe or a file would get them. */
async function call(
  config: string,
  args: string[],
  options: { stdin?: string | Buffer; isTTY?: boolean; stderrIsTTY?: boolean } = {},
): Promise<{ code: number; stdout: string; bytes: Buffer; stderr: string }> {
  const chunks: Buffer[] = [];
  let stderr = "";
  const code = await run(
    ["--config", config, "call", ...args],
    {
      stdout: (text) => void chunks.push(Buffer.from(text)),
      stdoutBytes: async (bytes) => void chunks.push(Buffer.from(bytes)),
      stderr: (text) => void (stderr += text),
      isTTY: options.isTTY ?? false,
      stderrIsTTY: options.stderrIsTTY ?? false,
    },
    Readable.from([options.stdin ?? ""]),
  );
  const bytes = Buffer.concat(chunks);
  return { code, stdout: bytes.toString("utf8"), bytes, stderr };
}

/** `tokensmith call ARGS` in a process of its own, run from source. */
async function callProcess(config: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  const main = join(import.meta.dirname, "..", "..", "src", "cli", "main.ts");
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "-e", `import(${JSON.stringify(main)}).then((m) => m.main(process.argv.slice(1)))`, "--", "--config", config, "call", ...args],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  return { code, stderr };
}

/** A demo server and a config file for it (connection "demo-service"). */
async function demo(t: TestContext): Promise<{ server: DemoServer; config: string; dir: string }> {
  const server = await withDemoServer(t);
  const dir = await tmpDir(t);
  const config = join(dir, "tokensmith.yaml");
  await writeDemoConfig(server, config);
  return { server, config, dir };
}

describe("tokensmith call", () => {
  it("prints the body exactly as it came when stdout is not a terminal", async (t) => {
    const { server, config } = await demo(t);
    const res = await call(config, ["demo-service", `${server.apiUrl}/whoami`]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^\{"sub":null,"client_id":"[^"]+",/);
    assert.equal(res.stderr, "");
  });

  it("pretty-prints JSON on a terminal", async (t) => {
    const { server, config } = await demo(t);
    const res = await call(config, ["demo-service", `${server.apiUrl}/whoami`], { isTTY: true });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^\{\n {2}"sub": null,\n {2}"client_id": /);
    assert.ok(res.stdout.endsWith("}\n"));
  });

  it("passes binary bodies through byte for byte", async (t) => {
    const { config } = await demo(t);
    const payload = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const api = await recordingServer(t, (_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.end(payload);
    });
    const res = await call(config, ["demo-service", `${api.url}/file.bin`]);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(res.bytes, payload);
  });

  it("sends -H headers, and -d as a POST with a JSON content type", async (t) => {
    const { config } = await demo(t);
    const api = await recordingServer(t, (_req, res) => json(res, 201, { ok: true }));
    const res = await call(config, ["demo-service", `${api.url}/items`, "-H", "X-Trace: abc", "-H", "Accept: application/json", "-d", '{"name":"x"}']);
    assert.equal(res.code, 0, res.stderr);
    const [seen] = api.seen;
    assert.equal(seen.method, "POST");
    assert.equal(seen.headers["x-trace"], "abc");
    assert.equal(seen.headers["content-type"], "application/json");
    assert.match(seen.headers.authorization ?? "", /^Bearer /);
    assert.equal(seen.body, '{"name":"x"}');
  });

  it("reads -d @FILE and -d @- (standard input), with an explicit method", async (t) => {
    const { config, dir } = await demo(t);
    const api = await recordingServer(t, (_req, res) => json(res, 200, {}));
    await writeFile(join(dir, "body.txt"), "a=1&b=2");
    assert.equal((await call(config, ["demo-service", "PUT", `${api.url}/x`, "-d", `@${join(dir, "body.txt")}`])).code, 0);
    assert.equal((await call(config, ["demo-service", "patch", `${api.url}/x`, "-d", "@-"], { stdin: "from stdin" })).code, 0);
    assert.deepEqual(
      api.seen.map((s) => [s.method, s.body, s.headers["content-type"]]),
      [
        ["PUT", "a=1&b=2", "application/x-www-form-urlencoded"],
        ["PATCH", "from stdin", "application/x-www-form-urlencoded"],
      ],
    );
  });

  it("replays a body from standard input after a 401, with exactly one refresh", async (t) => {
    const { server, config } = await demo(t);
    assert.equal((await call(config, ["demo-service", `${server.apiUrl}/whoami`])).code, 0);
    const token = (await readTokenViaCli(config)).trim();
    await server.revokeAccessToken(token);
    const res = await call(config, ["demo-service", "POST", `${server.apiUrl}/echo`, "-d", "@-"], { stdin: '{"replayed":true}' });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(JSON.parse(res.stdout).body, '{"replayed":true}');
    assert.equal(server.stats.tokenRequests, 2);
  });

  it("holds a binary body back from a terminal, and writes it raw there with -o -", async (t) => {
    const { config } = await demo(t);
    const payload = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]);
    const api = await recordingServer(t, (_req, res) => {
      res.writeHead(200, { "content-type": "image/png" });
      res.end(payload);
    });
    const held = await call(config, ["demo-service", `${api.url}/logo.png`], { isTTY: true });
    assert.equal(held.code, 0);
    assert.equal(held.bytes.length, 0);
    assert.match(held.stderr, /not printed to the terminal; use -o FILE, -o - or a pipe/);
    const raw = await call(config, ["demo-service", `${api.url}/logo.png`, "-o", "-"], { isTTY: true });
    assert.equal(raw.code, 0, raw.stderr);
    assert.deepEqual(raw.bytes, payload);
  });

  it("writes the body to -o FILE and nothing to stdout", async (t) => {
    const { server, config, dir } = await demo(t);
    const file = join(dir, "out.json");
    const res = await call(config, ["demo-service", `${server.apiUrl}/whoami`, "-o", file]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, "");
    assert.equal(JSON.parse(await readFile(file, "utf8")).client_id, server.clients.basic.clientId);
  });

  it("prints the status line and headers first with -i", async (t) => {
    const { server, config } = await demo(t);
    const res = await call(config, ["demo-service", `${server.apiUrl}/whoami`, "-i"]);
    assert.equal(res.code, 0, res.stderr);
    const [head, body] = res.stdout.split("\r\n\r\n");
    assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(head, /\r\ncontent-type: application\/json/);
    assert.equal(JSON.parse(body).client_id, server.clients.basic.clientId);
  });

  for (const status of [404, 500]) {
    it(`exits 5 on ${status}, printing the body and the error`, async (t) => {
      const { config } = await demo(t);
      const api = await recordingServer(t, (_req, res) => json(res, status, { error: "nope" }));
      const res = await call(config, ["demo-service", `${api.url}/missing?key=secret-value`]);
      assert.equal(res.code, 5);
      assert.equal(res.stdout, '{"error":"nope"}');
      assert.match(res.stderr, new RegExp(`GET ${api.url}/missing answered ${status}`));
      assert.doesNotMatch(res.stderr, /secret-value/);
    });
  }

  it("exits 3 when a freshly issued token gets 401 too, after exactly one refresh", async (t) => {
    const { server, config } = await demo(t);
    const api = await recordingServer(t, (_req, res) => json(res, 401, { error: "invalid_token" }));
    const res = await call(config, ["demo-service", `${api.url}/x`]);
    assert.equal(res.code, 3);
    assert.match(res.stderr, /answered 401/);
    assert.match(res.stderr, /hint: the API refused a freshly issued token/);
    assert.equal(server.stats.tokenRequests, 2);
    assert.equal(api.seen.length, 2);
  });

  it("remembers across processes that the fresh token was refused: the next run exits 3 with no token request", async (t) => {
    const { server, config } = await demo(t);
    const api = await recordingServer(t, (_req, res) => json(res, 401, { error: "invalid_token" }));
    const first = await callProcess(config, ["demo-service", `${api.url}/x`]);
    assert.equal(first.code, 3, first.stderr);
    assert.equal(server.stats.tokenRequests, 2, "the first token and one refresh");
    const second = await callProcess(config, ["demo-service", `${api.url}/x`]);
    assert.equal(second.code, 3, second.stderr);
    assert.match(second.stderr, /answered 401/);
    assert.equal(server.stats.tokenRequests, 2, "the stored token is known dead: no refresh for it");
    assert.equal(api.seen.length, 3);
  });

  it("refreshes as usual once the refused token has expired", async (t) => {
    const server = await withDemoServer(t, { accessTokenTtl: 3 });
    const config = join(await tmpDir(t), "tokensmith.yaml");
    await writeDemoConfig(server, config);
    const api = await recordingServer(t, (_req, res) => json(res, 401, { error: "invalid_token" }));
    assert.equal((await call(config, ["demo-service", `${api.url}/x`])).code, 3);
    assert.equal((await call(config, ["demo-service", `${api.url}/x`])).code, 3);
    assert.equal(server.stats.tokenRequests, 2);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const ok = await call(config, ["demo-service", `${server.apiUrl}/whoami`]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(server.stats.tokenRequests, 3, "the expired dead token was replaced by a normal refresh");
    assert.equal((await call(config, ["demo-service", `${api.url}/x`])).code, 3);
    assert.equal(server.stats.tokenRequests, 4, "the new token, refused, had its one refresh");
  });

  it("exits 5 on 403 without refreshing", async (t) => {
    const { server, config } = await demo(t);
    const res = await call(config, ["demo-service", `${server.apiUrl}/admin`]);
    assert.equal(res.code, 5);
    assert.equal(server.stats.tokenRequests, 1);
  });

  it("exits 2 naming the URL, and sends nothing, for plain http to a host other than loopback (SPEC §2.13)", async (t) => {
    // Refused before any connection is made, so the host need not exist (and no traffic leaves loopback).
    const { config } = await demo(t);
    const url = "http://api.example.invalid";
    const res = await call(config, ["demo-service", `${url}/x?key=secret-value`]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, new RegExp(`will not send its token over plain http to ${url}/x`));
    assert.match(res.stderr, /allow_insecure_http: true/);
    assert.doesNotMatch(res.stderr, /secret-value/);
  });

  it("gives --json as one document: status, headers and the parsed body", async (t) => {
    const { server, config } = await demo(t);
    const res = await call(config, ["--json", "demo-service", `${server.apiUrl}/whoami`]);
    assert.equal(res.code, 0, res.stderr);
    const doc = JSON.parse(res.stdout);
    assert.equal(doc.status, 200);
    assert.equal(doc.headers["content-type"], "application/json");
    assert.equal(doc.body.client_id, server.clients.basic.clientId);
  });

  it("says the method goes before the URL when they are swapped, and sends nothing", async (t) => {
    const { server, config } = await demo(t);
    const api = await recordingServer(t, (_req, res) => json(res, 200, {}));
    const swapped = await call(config, ["demo-service", `${api.url}/items`, "post"]);
    assert.equal(swapped.code, 2);
    assert.match(swapped.stderr, /the method goes before the URL/);
    assert.ok(swapped.stderr.includes(`hint: write it as: tokensmith call demo-service POST ${api.url}/items`), swapped.stderr);
    const noUrl = await call(config, ["demo-service", "DELETE"]);
    assert.equal(noUrl.code, 2);
    assert.match(noUrl.stderr, /no URL after DELETE/);
    const noScheme = await call(config, ["demo-service", "api.example.com/items"]);
    assert.equal(noScheme.code, 2);
    assert.match(noScheme.stderr, /did you mean https:\/\/api\.example\.com\/items/);
    assert.equal(api.seen.length, 0);
    assert.equal(server.stats.tokenRequests, 0);
  });

  it("joins several -d with &, as curl does", async (t) => {
    const { config } = await demo(t);
    const api = await recordingServer(t, (_req, res) => json(res, 200, {}));
    assert.equal((await call(config, ["demo-service", `${api.url}/form`, "-d", "a=1", "-d", "b=2"])).code, 0);
    assert.deepEqual([api.seen[0].method, api.seen[0].body, api.seen[0].headers["content-type"]], ["POST", "a=1&b=2", "application/x-www-form-urlencoded"]);
  });

  it("on a terminal, pretty-prints an untyped JSON body and ends text with a newline", async (t) => {
    const { config } = await demo(t);
    const api = await recordingServer(t, (req, res) => {
      if (req.path === "/untyped") return void res.end('{"a":1}');
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("no newline");
    });
    assert.equal((await call(config, ["demo-service", `${api.url}/untyped`], { isTTY: true })).stdout, '{\n  "a": 1\n}\n');
    assert.equal((await call(config, ["demo-service", `${api.url}/text`], { isTTY: true })).stdout, "no newline\n");
    assert.equal((await call(config, ["demo-service", `${api.url}/text`])).stdout, "no newline");
  });

  it("does not refresh on a 401 that says insufficient_scope, exits 5 as for any API error, and the hint says so", async (t) => {
    const { server, config } = await demo(t);
    const api = await recordingServer(t, (_req, res) => json(res, 401, { error: "insufficient_scope" }, { "www-authenticate": 'Bearer error="insufficient_scope", scope="admin"' }));
    const res = await call(config, ["demo-service", `${api.url}/admin`]);
    assert.equal(res.code, 5, "no refresh happened, so this is not SPEC §3's 401 after refresh (exit 3)");
    assert.match(res.stderr, /hint: the token lacks a scope this API needs/);
    assert.equal(server.stats.tokenRequests, 1);
    assert.equal(api.seen.length, 1);
  });

  it("refuses a malformed header, method or URL as a usage error", async (t) => {
    const { config } = await demo(t);
    assert.equal((await call(config, ["demo-service", "https://api.example.com/x", "-H", "no colon"])).code, 2);
    assert.equal((await call(config, ["demo-service", "GE T", "https://api.example.com/x"])).code, 2);
    assert.equal((await call(config, ["demo-service", "/relative"])).code, 2);
    assert.equal((await call(config, ["demo-service", "https://api.example.com/x", "-d", "@/nonexistent/file"])).code, 2);
  });
});

describe("tokensmith call --paginate", () => {
  it("prints every record of every page as one JSON array", async (t) => {
    const { server, config } = await demo(t);
    const res = await call(config, ["demo-service", `${server.apiUrl}/items?per_page=5`, "--paginate", "--jsonpath", "$.items[*]"]);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(
      JSON.parse(res.stdout).map((r: { id: number }) => r.id),
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
  });

  it("prints NDJSON with --ndjson, following a JSONPath next URL", async (t) => {
    const { server, config } = await demo(t);
    const res = await call(config, ["demo-service", `${server.apiUrl}/items?per_page=5`, "--next", "$.next", "--jsonpath", "$.items", "--ndjson"]);
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 12);
    assert.deepEqual(JSON.parse(lines[11]), { id: 12, name: "Item 12" });
  });

  it("follows a cursor and writes the array to -o FILE", async (t) => {
    const { config, dir } = await demo(t);
    const api = await recordingServer(t, (req, res) => {
      const after = Number(new URL(req.path, "http://x").searchParams.get("after") ?? 0);
      json(res, 200, { data: [{ id: after + 1 }], next: after < 2 ? after + 1 : null });
    });
    const file = join(dir, "all.json");
    const res = await call(config, ["demo-service", `${api.url}/list`, "--cursor", "after=$.next", "--jsonpath", "$.data[*]", "-o", file]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, "");
    assert.deepEqual(JSON.parse(await readFile(file, "utf8")), [{ id: 1 }, { id: 2 }, { id: 3 }]);
  });

  it("stops quietly, exit 0 and no stack trace, when its reader closes the pipe (| head)", async (t) => {
    const { config } = await demo(t);
    const page = JSON.stringify(Array.from({ length: 500 }, (_, id) => ({ id, padding: "x".repeat(100) })));
    const api = await recordingServer(t, (req, res, self) => {
      const n = Number(new URL(req.path, self.url).searchParams.get("page"));
      json(res, 200, JSON.parse(page), { link: `<${self.url}/list?page=${n + 1}>; rel="next"` });
    });
    const main = join(import.meta.dirname, "..", "..", "src", "cli", "main.ts");
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "-e", `import(${JSON.stringify(main)}).then((m) => m.main(process.argv.slice(1)))`, "--", "--config", config, "call", "demo-service", `${api.url}/list?page=1`, "--paginate", "--ndjson"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    // Like `head -c 1000`: read a little, then close the pipe.
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|\n\s+at /);
    assert.ok(api.seen.length < 50, `it stopped paging (${api.seen.length} pages fetched)`);
  });

  it("keeps the records fetched before a failing page as valid JSON, and exits 5", async (t) => {
    const { config } = await demo(t);
    const api = await recordingServer(t, (req, res, self) => {
      if (req.path === "/list?page=2") return json(res, 500, { error: "boom" });
      json(res, 200, [{ id: 1 }, { id: 2 }], { link: `<${self.url}/list?page=2>; rel="next"` });
    });
    const res = await call(config, ["demo-service", `${api.url}/list?page=1`, "--paginate"]);
    assert.equal(res.code, 5);
    assert.deepEqual(JSON.parse(res.stdout), [{ id: 1 }, { id: 2 }]);
    assert.match(res.stderr, /page 2 of .* answered 500/);
  });

  it("picks records from a single response with --jsonpath alone", async (t) => {
    const { server, config } = await demo(t);
    const res = await call(config, ["demo-service", `${server.apiUrl}/items?per_page=3`, "--jsonpath", "$.items[*].id"]);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(JSON.parse(res.stdout), [1, 2, 3]);
  });
});

async function readTokenViaCli(config: string): Promise<string> {
  let stdout = "";
  await run(["--config", config, "token", "demo-service"], { stdout: (t) => void (stdout += t), stderr: () => {}, isTTY: false });
  return stdout;
}

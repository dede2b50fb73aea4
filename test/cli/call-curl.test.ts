import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, it, type TestContext } from "node:test";
import { parse, stringify } from "yaml";
import { run } from "../../src/cli/main.js";
import { writeDemoConfig } from "../../src/demo/config.js";
import type { DemoServer } from "../../src/demo/server.js";
import { json, recordingServer } from "../http/support.js";
import { tmpDir, withDemoServer } from "../support/demo.js";

/**
 * curl habits in `tokensmith call` (SPEC §3, issue 13 item 6): -X, -s, -f, -v, --data-urlencode,
 * -G, URLs relative to base_url, --csv with --columns, and the body of an error under --json.
 */

async function call(
  config: string,
  args: string[],
  options: { stdin?: string; isTTY?: boolean; stderrIsTTY?: boolean } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await run(
    ["--config", config, "call", ...args],
    {
      stdout: (text) => void (stdout += text),
      stdoutBytes: async (bytes) => void (stdout += Buffer.from(bytes).toString("utf8")),
      stderr: (text) => void (stderr += text),
      isTTY: options.isTTY ?? false,
      stderrIsTTY: options.stderrIsTTY ?? false,
    },
    Readable.from([options.stdin ?? ""]),
  );
  return { code, stdout, stderr };
}

/** A demo server and a config file for it (connection "demo-service"); `patch` edits that connection. */
async function demo(t: TestContext, patch?: (conn: Record<string, unknown>) => void): Promise<{ server: DemoServer; config: string; dir: string }> {
  const server = await withDemoServer(t);
  const dir = await tmpDir(t);
  const config = join(dir, "tokensmith.yaml");
  await writeDemoConfig(server, config);
  if (patch) {
    const doc = parse(await readFile(config, "utf8")) as { connections: Record<string, Record<string, unknown>> };
    patch(doc.connections["demo-service"]);
    await writeFile(config, stringify(doc), { mode: 0o600 });
  }
  return { server, config, dir };
}

describe("tokensmith call: curl's flags", () => {
  it("takes the method from -X, and refuses two different methods", async (t) => {
    const { config } = await demo(t);
    const api = await recordingServer(t, (_req, res) => json(res, 200, {}));
    assert.equal((await call(config, ["demo-service", `${api.url}/items`, "-X", "DELETE"])).code, 0);
    assert.equal((await call(config, ["demo-service", `${api.url}/items`, "-X", "put", "-d", "a=1"])).code, 0);
    assert.equal((await call(config, ["demo-service", "POST", `${api.url}/items`, "--request", "POST"])).code, 0);
    assert.deepEqual(
      api.seen.map((s) => [s.method, s.body]),
      [
        ["DELETE", ""],
        ["PUT", "a=1"],
        ["POST", ""],
      ],
    );
    const both = await call(config, ["demo-service", "POST", `${api.url}/items`, "-X", "PUT"]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /two methods given: POST before the URL and -X PUT/);
    assert.equal(api.seen.length, 3);
  });

  it("percent-encodes --data-urlencode as curl does, joined with -d in the order given", async (t) => {
    const { config, dir } = await demo(t);
    const api = await recordingServer(t, (_req, res) => json(res, 200, {}));
    await writeFile(join(dir, "note.txt"), "a&b=c d");
    const args = ["-d", "raw=1", "--data-urlencode", "q=hello world&x=1", "--data-urlencode", "=a/b+c", "--data-urlencode", `note@${join(dir, "note.txt")}`, "-d", "last=2"];
    const res = await call(config, ["demo-service", `${api.url}/form`, ...args]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(api.seen[0].method, "POST");
    assert.equal(api.seen[0].body, "raw=1&q=hello%20world%26x%3D1&a%2Fb%2Bc&note=a%26b%3Dc%20d&last=2");
    assert.equal(api.seen[0].headers["content-type"], "application/x-www-form-urlencoded");
    assert.deepEqual(Object.fromEntries(new URLSearchParams(api.seen[0].body)), { raw: "1", q: "hello world&x=1", "a/b+c": "", note: "a&b=c d", last: "2" });
  });

  it("-G puts the data into the query string of a GET, after the URL's own query", async (t) => {
    const { config } = await demo(t);
    const api = await recordingServer(t, (_req, res) => json(res, 200, {}));
    const res = await call(config, ["demo-service", `${api.url}/search?page=2`, "-G", "-d", "limit=5", "--data-urlencode", "q=tea & cake"]);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual([api.seen[0].method, api.seen[0].path, api.seen[0].body], ["GET", "/search?page=2&limit=5&q=tea%20%26%20cake", ""]);
    assert.equal(api.seen[0].headers["content-type"], undefined);
  });

  it("-f prints nothing of an error body and exits 5, saying why on stderr", async (t) => {
    const { config } = await demo(t);
    const api = await recordingServer(t, (_req, res) => json(res, 404, { error: "no such invoice" }));
    const res = await call(config, ["demo-service", `${api.url}/invoices/9`, "-f"]);
    assert.equal(res.code, 5);
    assert.equal(res.stdout, "");
    assert.match(res.stderr, /answered 404/);
    const plain = await call(config, ["demo-service", `${api.url}/invoices/9`]);
    assert.equal(plain.code, 5);
    assert.equal(plain.stdout, '{"error":"no such invoice"}', "without -f the body is printed, as before");
  });

  it("-s silences warnings and progress but not errors", async (t) => {
    const { config } = await demo(t);
    const api = await recordingServer(t, (req, res) => {
      if (req.path === "/missing") return json(res, 404, {});
      res.writeHead(200, { "content-type": "image/png" });
      res.end(Buffer.from([0x89, 0x50]));
    });
    const loud = await call(config, ["demo-service", `${api.url}/logo.png`], { isTTY: true });
    assert.match(loud.stderr, /not printed to the terminal/);
    const silent = await call(config, ["demo-service", `${api.url}/logo.png`, "-s"], { isTTY: true });
    assert.equal(silent.code, 0);
    assert.equal(silent.stderr, "");
    const failed = await call(config, ["demo-service", `${api.url}/missing`, "-s"]);
    assert.equal(failed.code, 5);
    assert.match(failed.stderr, /^error \[demo-service\]: GET .* answered 404/);
  });

  it("-s draws no progress bar for a long download to a file", async (t) => {
    const { config, dir } = await demo(t);
    // A body that takes more than a second (PROGRESS_DELAY_MS) to arrive: long enough for a bar.
    const api = await recordingServer(t, (_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": "4096" });
      let sent = 0;
      const timer = setInterval(() => {
        res.write(Buffer.alloc(512));
        if (++sent === 8) {
          clearInterval(timer);
          res.end();
        }
      }, 200);
    });
    const file = join(dir, "blob.bin");
    const loud = await call(config, ["demo-service", `${api.url}/blob`, "-o", file], { stderrIsTTY: true });
    assert.equal(loud.code, 0, loud.stderr);
    assert.match(loud.stderr, /\[#*-*\] +\d+% /, "without -s a bar is drawn");
    const silent = await call(config, ["demo-service", `${api.url}/blob`, "-o", file, "-s"], { stderrIsTTY: true });
    assert.equal(silent.code, 0, silent.stderr);
    assert.equal(silent.stderr, "");
    assert.equal((await readFile(file)).length, 4096);
  });

  it("-v traces each request and response on stderr: the token as Bearer … and its last 4 characters, other secrets redacted", async (t) => {
    const { server, config } = await demo(t);
    const api = await recordingServer(t, (_req, res) => json(res, 200, { ok: true }, { "set-cookie": "session=s3cr3t-cookie; HttpOnly", "x-request-id": "r-42" }));
    const res = await call(config, ["demo-service", `${api.url}/items?page=2`, "-v", "-H", "X-Api-Key: k3y-value-123", "-H", "Cookie: sid=c00kie-value"]);
    assert.equal(res.code, 0, res.stderr);
    const token = (api.seen[0].headers.authorization ?? "").replace(/^Bearer /, "");
    assert.ok(token.length > 20);
    // The token request this run needed, then the API call.
    assert.match(res.stderr, new RegExp(`> POST ${escape(server.endpoints.token)}\\n`));
    assert.match(res.stderr, /> authorization: Basic \[redacted\]\n/);
    assert.ok(res.stderr.includes(`> GET ${api.url}/items?page=2\n`), res.stderr);
    assert.ok(res.stderr.includes(`> authorization: Bearer …${token.slice(-4)}\n`), res.stderr);
    assert.match(res.stderr, /> x-api-key: \[redacted\]\n/);
    assert.match(res.stderr, /> cookie: \[redacted\]\n/);
    assert.match(res.stderr, /< 200 OK\n/);
    assert.match(res.stderr, /< x-request-id: r-42\n/);
    assert.match(res.stderr, /< set-cookie: \[redacted\]\n/);
    for (const secret of [token, token.slice(0, 12), server.clients.basic.clientSecret, "k3y-value-123", "c00kie-value", "s3cr3t-cookie"]) {
      assert.ok(!res.stderr.includes(secret), `the trace holds no secret (${secret.slice(0, 6)}…)`);
    }
    assert.deepEqual(JSON.parse(res.stdout), { ok: true }, "the body still goes to stdout");
  });

  it("-v shows a token sent in the connection's own header the same way, its last 4 characters only", async (t) => {
    const api = await recordingServerFor(t);
    const { config } = await demo(t, (conn) => void (conn.header = { name: "X-Access-Token", value: "Token {token}" }));
    const res = await call(config, ["demo-service", `${api.url}/items`, "-v"]);
    assert.equal(res.code, 0, res.stderr);
    const token = String(api.seen[0].headers["x-access-token"]).replace(/^Token /, "");
    assert.ok(res.stderr.includes(`> x-access-token: Token …${token.slice(-4)}\n`), res.stderr);
    assert.ok(!res.stderr.includes(token));
  });

  it("resolves a relative URL against the connection's base_url, keeping the base's path", async (t) => {
    const api = await recordingServerFor(t);
    const { config } = await demo(t, (conn) => void (conn.base_url = `${api.url}/v1/`));
    assert.equal((await call(config, ["demo-service", "/items?page=2"])).code, 0);
    assert.equal((await call(config, ["demo-service", "PATCH", "items/7", "-d", "{}"])).code, 0);
    assert.equal((await call(config, ["demo-service", `${api.url}/other`])).code, 0, "an absolute URL is used as it is");
    assert.deepEqual(
      api.seen.map((s) => [s.method, s.path]),
      [
        ["GET", "/v1/items?page=2"],
        ["PATCH", "/v1/items/7"],
        ["GET", "/other"],
      ],
    );
  });

  it("keeps a query on base_url (Azure's api-version) before the call's own", async (t) => {
    const api = await recordingServerFor(t);
    const { config } = await demo(t, (conn) => void (conn.base_url = `${api.url}/subscriptions?api-version=2024-01-01`));
    assert.equal((await call(config, ["demo-service", "/groups?top=5"])).code, 0);
    assert.equal((await call(config, ["demo-service", "groups"])).code, 0);
    assert.deepEqual(
      api.seen.map((s) => s.path),
      ["/subscriptions/groups?api-version=2024-01-01&top=5", "/subscriptions/groups?api-version=2024-01-01"],
    );
  });

  it("says to set base_url when a relative URL is given without one, and sends nothing", async (t) => {
    const { server, config } = await demo(t);
    const res = await call(config, ["demo-service", "/items"]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /"\/items" is not an absolute http\(s\) URL and connection demo-service has no base_url/);
    assert.match(res.stderr, /hint: .*set base_url on connection demo-service/);
    assert.equal(server.stats.tokenRequests, 0);
  });

  it("refuses a base_url that is plain http to a host other than loopback, naming the field", async (t) => {
    const { config } = await demo(t, (conn) => void (conn.base_url = "http://api.example.com/v1"));
    const res = await call(config, ["demo-service", "/items"]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /connections\.demo-service\.base_url: plain http is refused for a non-loopback host/);
  });
});

describe("tokensmith call --csv", () => {
  it("writes every page's records as CSV: a header from the first records' keys, CRLF rows", async (t) => {
    const { server, config } = await demo(t);
    const res = await call(config, ["demo-service", `${server.apiUrl}/items?per_page=5`, "--paginate", "--jsonpath", "$.items[*]", "--csv"]);
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stdout.split("\r\n");
    assert.equal(lines[0], "id,name");
    assert.equal(lines[1], "1,Item 1");
    assert.equal(lines[12], "12,Item 12");
    assert.equal(lines.length, 14, "a header, 12 rows, and the final line end");
  });

  it("flattens nested objects to dotted keys, takes the union of keys, and quotes as RFC 4180 says", async (t) => {
    const { config } = await demo(t);
    const api = await recordingServer(t, (_req, res) =>
      json(res, 200, {
        data: [
          { id: 1, name: 'Ann "A", Jr.', address: { city: "Oslo" }, tags: ["a", "b"] },
          { id: 2, name: "Bo\nBo", address: { city: null, zip: "0150" }, active: true },
        ],
      }),
    );
    const res = await call(config, ["demo-service", `${api.url}/people`, "--jsonpath", "$.data[*]", "--csv"]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(
      res.stdout,
      ["id,name,address.city,tags,address.zip,active", '1,"Ann ""A"", Jr.",Oslo,"[""a"",""b""]",,', '2,"Bo\nBo",,,0150,true', ""].join("\r\n"),
    );
  });

  it("takes its columns from --columns: NAME=JSONPATH or a flattened key", async (t) => {
    const { config, dir } = await demo(t);
    const api = await recordingServer(t, (_req, res) =>
      json(res, 200, [
        { id: 1, user: { name: "Ann", email: "ann@example.com" }, items: [{ sku: "x" }] },
        { id: 2, user: { name: "Bo" }, items: [] },
      ]),
    );
    const file = join(dir, "out.csv");
    const res = await call(config, ["demo-service", `${api.url}/orders`, "--csv", "--columns", "id, who=$.user.name,user.email,first_sku=$.items[0].sku", "-o", file]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, "");
    assert.equal(await readFile(file, "utf8"), "id,who,user.email,first_sku\r\n1,Ann,ann@example.com,x\r\n2,Bo,,\r\n");
  });

  it("warns once when a record after the first 100 has keys that are not columns; never with --columns", async (t) => {
    const { config } = await demo(t);
    const records = Array.from({ length: 102 }, (_, i) => (i < 100 ? { id: i + 1 } : { id: i + 1, late: "x" }));
    const api = await recordingServer(t, (_req, res) => json(res, 200, records));
    const res = await call(config, ["demo-service", `${api.url}/rows`, "--csv"]);
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stdout.split("\r\n");
    assert.deepEqual([lines[0], lines[101], lines[102]], ["id", "101", "102"]);
    assert.equal(res.stderr, "warning: record 101 has keys that are not columns (late); name every column with --columns to keep them\n");
    const chosen = await call(config, ["demo-service", `${api.url}/rows`, "--csv", "--columns", "id"]);
    assert.equal(chosen.stderr, "");
  });

  it("refuses --columns without --csv, and --csv with --ndjson or --json, before sending anything", async (t) => {
    const { server, config } = await demo(t);
    const cases: [string[], RegExp][] = [
      [["--columns", "id"], /--columns goes with --csv/],
      [["--csv", "--ndjson"], /--csv and --ndjson are two formats/],
      [["--csv", "--json"], /--csv and --json are two formats/],
    ];
    for (const [args, message] of cases) {
      const res = await call(config, ["demo-service", `${server.apiUrl}/items`, ...args]);
      assert.equal(res.code, 2, args.join(" "));
      assert.match(res.stderr + res.stdout, message);
    }
    assert.equal(server.stats.tokenRequests, 0);
  });
});

describe("tokensmith call --json", () => {
  it("keeps the body of an error response beside the error", async (t) => {
    const { config } = await demo(t);
    const api = await recordingServer(t, (_req, res) => json(res, 422, { errors: [{ field: "amount", message: "must be positive" }] }));
    const res = await call(config, ["--json", "demo-service", "POST", `${api.url}/invoices`, "-d", '{"amount":-1}']);
    assert.equal(res.code, 5);
    const doc = JSON.parse(res.stdout);
    assert.equal(doc.error.code, "http_error");
    assert.equal(doc.error.status, 422);
    assert.equal(doc.connection, "demo-service");
    assert.equal(doc.status, 422);
    assert.equal(doc.headers["content-type"], "application/json");
    assert.deepEqual(doc.body, { errors: [{ field: "amount", message: "must be positive" }] });
  });
});

/** A recording API answering 200 `{}` to everything. */
function recordingServerFor(t: TestContext) {
  return recordingServer(t, (_req, res) => json(res, 200, {}));
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { outputOf } from "../support/cli.js";
import { tmpDir } from "../support/demo.js";
import { FULL_KEY } from "./support.js";
import { BLOCK, patternMd5, proxyGateway, withTestApi } from "./proxy-support.js";

/**
 * The data gateway driven by real clients (issue 14 item 4): curl and Python's `requests`
 * (Debian's python3-requests, hence /usr/bin/python3), not only Node. Large bodies are made
 * on the fly on both sides and checked by length and MD5, never held whole in memory.
 */

const PYTHON = "/usr/bin/python3";
const SCRIPT = join(import.meta.dirname, "fixtures", "proxy_client.py");
const MB = 1000 * 1000;
const UPLOAD = 50 * MB;
const DOWNLOAD = 1024 * 1024 * 1024;

/** Runs a tool without blocking this process (the gateway under test lives here). */
function tool(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return outputOf(spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] }));
}

async function python(base: string, ...args: string[]): Promise<any> {
  const { code, stdout, stderr } = await tool(PYTHON, [SCRIPT, base, FULL_KEY, ...args]);
  assert.equal(code, 0, stderr);
  return JSON.parse(stdout);
}

const AUTH = `Authorization: Bearer ${FULL_KEY}`;

async function curl(...args: string[]): Promise<string> {
  const { code, stdout, stderr } = await tool("curl", ["-sS", "-f", "-H", AUTH, ...args]);
  assert.equal(code, 0, stderr);
  return stdout;
}

/** The peak RSS growth of this process (where the gateway runs) while `work` runs. */
async function peakRssGrowth<T>(work: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  try {
    const result = await work();
    return { result, growth: Math.max(peak, process.memoryUsage().rss) - start };
  } finally {
    clearInterval(timer);
  }
}

/** A file of `bytes` of the download pattern, written in blocks. */
async function patternFile(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  for (let left = bytes; left > 0; left -= BLOCK.length) {
    if (!out.write(left >= BLOCK.length ? BLOCK : BLOCK.subarray(0, left))) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

test("curl through the proxy: a paginated GET, a JSON POST, a 50 MB upload and a 1 GB download (constant memory)", async (t) => {
  const { gateway } = await proxyGateway(t);
  const demo = `${gateway.url}/proxy/demo-service`;
  const ids: number[] = [];
  for (let page = 1; page <= 3; page++) ids.push(...JSON.parse(await curl(`${demo}/items?page=${page}&per_page=5`)).items.map((i: { id: number }) => i.id));
  assert.deepEqual(ids, Array.from({ length: 12 }, (_, i) => i + 1));
  const echoed = JSON.parse(await curl("-H", "Content-Type: application/json", "-d", '{"name":"widget"}', `${demo}/echo`));
  assert.deepEqual(echoed, { method: "POST", content_type: "application/json", body: '{"name":"widget"}' });

  const bulk = `${gateway.url}/proxy/bulk`;
  const file = join(await tmpDir(t), "upload.bin");
  await patternFile(file, UPLOAD);
  const uploaded = JSON.parse(await curl("-T", file, `${bulk}/upload`));
  assert.deepEqual(uploaded, { bytes: UPLOAD, md5: patternMd5(UPLOAD), chunked: false });

  const expected = patternMd5(DOWNLOAD);
  const { result, growth } = await peakRssGrowth(() => tool("bash", ["-o", "pipefail", "-c", `curl -sS -f -H "${AUTH}" "${bulk}/download?bytes=${DOWNLOAD}" | md5sum`]));
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.split(" ")[0], expected);
  // A proxy that held the body would grow by a gigabyte; the bound is loose (GC timing), the benchmark measures.
  assert.ok(growth < 256 * MB, `RSS grew by ${Math.round(growth / MB)} MB during a 1 GB download`);
  const metrics = (await (await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${FULL_KEY}` } })).text()) as string;
  const downloaded = Number(/tokensmith_proxy_bytes_total\{connection="bulk",direction="download"\} (\d+)/.exec(metrics)?.[1]);
  // The download and the upload's small JSON answer.
  assert.ok(downloaded > DOWNLOAD && downloaded < DOWNLOAD + 1000, String(downloaded));
  assert.match(metrics, new RegExp(`tokensmith_proxy_bytes_total\\{connection="bulk",direction="upload"\\} ${UPLOAD}`));
});

test("Python requests through the proxy: pages by the rewritten Link header, a JSON POST, a 50 MB chunked upload, a 1 GB streamed download", async (t) => {
  const { gateway } = await proxyGateway(t);
  const demo = `${gateway.url}/proxy/demo-service`;
  assert.deepEqual(await python(demo, "pages"), { ids: Array.from({ length: 12 }, (_, i) => i + 1), pages: 3 });
  const posted = await python(demo, "post");
  assert.equal(posted.status, 200);
  assert.deepEqual(JSON.parse(posted.body.body), { name: "widget", qty: 3 });
  assert.equal(posted.body.content_type, "application/json");

  const bulk = `${gateway.url}/proxy/bulk`;
  const upload = await python(bulk, "upload", String(UPLOAD));
  assert.equal(upload.status, 200);
  assert.deepEqual(upload.body, { bytes: UPLOAD, md5: upload.expected_md5, chunked: true });

  const { result, growth } = await peakRssGrowth(() => python(bulk, "download", String(DOWNLOAD)));
  assert.deepEqual(result, { status: 200, bytes: DOWNLOAD, md5: patternMd5(DOWNLOAD) });
  assert.ok(growth < 256 * MB, `RSS grew by ${Math.round(growth / MB)} MB during a 1 GB download`);
});

test("a token revoked at the server mid-run: curl and Python get 200, after exactly one refresh each", async (t) => {
  const { gateway, server, api } = await proxyGateway(t);
  const demo = `${gateway.url}/proxy/demo-service`;
  const revokeCurrent = async () => {
    const token = (await api("/v1/connections/demo-service/token")).body.access_token as string;
    assert.ok(await server.revokeAccessToken(token));
  };
  assert.equal(JSON.parse(await curl(`${demo}/whoami`)).client_id, server.clients.basic.clientId);
  await revokeCurrent();
  let before = server.stats.tokenRequests;
  assert.equal(JSON.parse(await curl(`${demo}/whoami`)).client_id, server.clients.basic.clientId);
  assert.equal(server.stats.tokenRequests - before, 1);

  await revokeCurrent();
  before = server.stats.tokenRequests;
  const got = await python(demo, "get", "/whoami");
  assert.equal(got.status, 200);
  assert.equal(server.stats.tokenRequests - before, 1);
  const metrics = (await api("/metrics")).body as string;
  assert.match(metrics, /tokensmith_proxy_401_recoveries_total\{connection="demo-service"\} 2/);
});

test("a redirect to another origin: curl -L and Python follow it, and the token never goes there", async (t) => {
  const other = await withTestApi(t);
  const { gateway, testApi } = await proxyGateway(t);
  const bulk = `${gateway.url}/proxy/bulk`;
  const to = encodeURIComponent(`${other.url}/landing`);
  const landed = JSON.parse(await curl("-L", `${bulk}/redirect?to=${to}`));
  assert.equal(landed.landed, true);
  const got = await python(bulk, "get", `/redirect?to=${to}`);
  assert.deepEqual([got.status, got.history, got.body.landed], [200, [302], true]);
  const tokens = testApi.seen.map((s) => s.authorization).filter(Boolean);
  assert.ok(tokens.length >= 2);
  assert.equal(other.seen.length, 2);
  for (const seen of other.seen) assert.ok(!tokens.includes(seen.authorization), "the token went to another origin");
  // And a redirect into base_url comes back through the proxy.
  const inside = JSON.parse(await curl("-L", `${bulk}/redirect?to=${encodeURIComponent(`${testApi.url}/v1/small`)}`));
  assert.deepEqual(inside, { ok: true, items: [1, 2, 3] });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TokenSmithError } from "../../src/errors.js";
import { nextLink, pickRecords } from "../../src/http/paginate.js";
import { demoSetup, json, recordingServer } from "./support.js";

async function collect<T>(records: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const record of records) out.push(record);
  return out;
}

const ids = (records: unknown[]) => records.map((r) => (r as { id: number }).id);
const ALL_12 = Array.from({ length: 12 }, (_, i) => i + 1);

describe("connection.paginate", () => {
  it("follows Link: rel=\"next\" through every page of the demo API", async (t) => {
    const { server, connection } = await demoSetup(t);
    const pages: number[] = [];
    const records = await collect(connection.paginate(`${server.apiUrl}/items?per_page=5`, { jsonpath: "$.items[*]", onPage: (p) => void pages.push(p.records) }));
    assert.deepEqual(ids(records), ALL_12);
    assert.deepEqual(pages, [5, 5, 2]);
    assert.equal(server.stats.tokenRequests, 1);
  });

  it("follows a JSONPath to the next page's URL in the body", async (t) => {
    const { server, connection } = await demoSetup(t);
    const records = await collect(connection.paginate(`${server.apiUrl}/items?per_page=4`, { jsonpath: "$.items", next: "$.next" }));
    assert.deepEqual(ids(records), ALL_12);
  });

  it("sends a cursor from the body back as a query parameter", async (t) => {
    const { connection } = await demoSetup(t);
    const api = await recordingServer(t, (req, res) => {
      const after = Number(new URL(req.path, "http://x").searchParams.get("after") ?? 0);
      const data = [after + 1, after + 2].filter((id) => id <= 5).map((id) => ({ id }));
      json(res, 200, { data, meta: { next_cursor: after + 2 < 5 ? String(after + 2) : null } });
    });
    const records = await collect(connection.paginate(`${api.url}/list?limit=2`, { jsonpath: "$.data[*]", cursor: { param: "after", jsonpath: "$.meta.next_cursor" } }));
    assert.deepEqual(ids(records), [1, 2, 3, 4, 5]);
    assert.deepEqual(api.seen.map((s) => s.path), ["/list?limit=2", "/list?limit=2&after=2", "/list?limit=2&after=4"]);
  });

  it("ends on an empty last page", async (t) => {
    const { connection } = await demoSetup(t);
    const api = await recordingServer(t, (req, res, self) => {
      const page = Number(new URL(req.path, "http://x").searchParams.get("page") ?? 1);
      const next = page < 3 ? { link: `<${self.url}/list?page=${page + 1}>; rel="next"` } : undefined;
      json(res, 200, page < 3 ? [{ id: page }] : [], next);
    });
    const records = await collect(connection.paginate(`${api.url}/list?page=1`));
    assert.deepEqual(ids(records), [1, 2]);
    assert.equal(api.seen.length, 3);
  });

  it("keeps what was fetched when a page fails mid-way, and says which page", async (t) => {
    const { connection } = await demoSetup(t);
    const api = await recordingServer(t, (req, res, self) => {
      if (req.path.endsWith("page=2")) return json(res, 500, { error: "boom" });
      json(res, 200, { items: [{ id: 1 }, { id: 2 }] }, { link: `<${self.url}/list?page=2>; rel="next"` });
    });
    const records: unknown[] = [];
    await assert.rejects(
      (async () => {
        for await (const record of connection.paginate(`${api.url}/list?page=1`, { jsonpath: "$.items[*]" })) records.push(record);
      })(),
      (err: unknown) => err instanceof TokenSmithError && err.code === "http_error" && err.status === 500 && /^page 2 of /.test(err.message) && /pages 1–1/.test(err.hint ?? ""),
    );
    assert.deepEqual(ids(records), [1, 2]);
  });

  it("recovers from a token revoked between pages with one refresh", async (t) => {
    const { server, connection } = await demoSetup(t);
    const records = await collect(
      connection.paginate(`${server.apiUrl}/items?per_page=6`, {
        jsonpath: "$.items[*]",
        onPage: async (page) => {
          if (page.number === 1) await server.revokeAccessToken(await connection.accessToken());
        },
      }),
    );
    assert.deepEqual(ids(records), ALL_12);
    assert.equal(server.stats.tokenRequests, 2);
  });

  it("retries a page refused with a bare 403 with the token another instance stored meanwhile, without a refresh (SPEC §2.11)", async (t) => {
    const { server, connection, another } = await demoSetup(t);
    let current = await connection.accessToken();
    const api = await recordingServer(t, (req, res, self) => {
      if (req.headers.authorization !== `Bearer ${current}`) return json(res, 403, { detail: "forbidden" });
      const page = Number(new URL(req.path, "http://x").searchParams.get("page") ?? 1);
      json(res, 200, [{ id: page }], page < 3 ? { link: `<${self.url}/list?page=${page + 1}>; rel="next"` } : undefined);
    });
    const records = await collect(
      connection.paginate(`${api.url}/list?page=1`, {
        onPage: async (page) => {
          if (page.number === 1) current = (await (await another()).token({ forceRefresh: true })).accessToken;
        },
      }),
    );
    assert.deepEqual(ids(records), [1, 2, 3]);
    assert.equal(server.stats.tokenRequests, 2, "only the other instance's refresh");
    assert.deepEqual(api.seen.map((s) => s.path), ["/list?page=1", "/list?page=2", "/list?page=2", "/list?page=3"]);
  });

  it("refuses to follow a next page to another origin unless allowed_origins names it", async (t) => {
    const other = await recordingServer(t, (_req, res) => json(res, 200, [{ id: 2 }]));
    const api = await recordingServer(t, (_req, res) => json(res, 200, [{ id: 1 }], { link: `<${other.url}/page2>; rel="next"` }));
    const { connection } = await demoSetup(t);
    await assert.rejects(collect(connection.paginate(`${api.url}/list`)), (err: unknown) => err instanceof TokenSmithError && err.code === "usage_error");
    assert.equal(other.seen.length, 0);

    const allowed = await demoSetup(t, { patch: (conn) => (conn.allowed_origins = [api.origin, other.origin]) });
    assert.deepEqual(ids(await collect(allowed.connection.paginate(`${api.url}/list`))), [1, 2]);
  });

  it("stops when a page points back to one already fetched, and after maxPages", async (t) => {
    const { connection } = await demoSetup(t);
    const api = await recordingServer(t, (_req, res, self) => json(res, 200, [{ id: 1 }], { link: `<${self.url}/same>; rel="next"` }));
    const warnings: string[] = [];
    assert.deepEqual(ids(await collect(connection.paginate(`${api.url}/same`, { onWarning: (w) => warnings.push(w) }))), [1]);
    assert.match(warnings.join("\n"), /points back to a page already fetched; paging stopped there/);
    assert.deepEqual(ids(await collect(connection.paginate(`${api.url}/first`, { maxPages: 1 }))), [1]);
    assert.equal(api.seen.length, 2);
  });

  it("names a bad JSONPath as a usage error", async (t) => {
    const { server, connection } = await demoSetup(t);
    await assert.rejects(collect(connection.paginate(`${server.apiUrl}/items`, { jsonpath: "$.items[?(@.id > 1)]" })), (err: unknown) => err instanceof TokenSmithError && err.code === "usage_error");
  });
});

describe("pagination helpers", () => {
  it("finds rel=next among several links, quoted or not, in any case", () => {
    assert.equal(nextLink('<https://a/x?page=1>; rel="prev", <https://a/x?page=3>; rel="next"'), "https://a/x?page=3");
    assert.equal(nextLink("<https://a/x?p=2,3>; rel=next"), "https://a/x?p=2,3");
    assert.equal(nextLink('<https://a/2>; title="x"; REL="last next"'), "https://a/2");
    assert.equal(nextLink('<https://a/9>; rel="last"'), undefined);
    assert.equal(nextLink(null), undefined);
  });

  it("picks records: a page array, a path to an array, a wildcard path, nothing from an empty page", () => {
    assert.deepEqual(pickRecords([1, 2], undefined), [1, 2]);
    assert.deepEqual(pickRecords({ a: 1 }, undefined), [{ a: 1 }]);
    assert.deepEqual(pickRecords({ items: [1, 2] }, "$.items"), [1, 2]);
    assert.deepEqual(pickRecords({ items: [{ v: 1 }, { v: 2 }] }, "$.items[*].v"), [1, 2]);
    assert.deepEqual(pickRecords({ items: [] }, "$.items[*]"), []);
    assert.deepEqual(pickRecords(undefined, "$.items[*]"), []);
  });
});

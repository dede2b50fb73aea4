import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { stringify } from "yaml";
import { startServer, type Handler, type Recorded } from "../protocol/helpers.js";
import { cli } from "../support/cli.js";
import { assertMatchesSchema } from "../support/json-schema.js";

/**
 * `tokensmith revoke` (SPEC §3, §2.16) through the CLI, against a token and revocation
 * endpoint on loopback and a file store: order, hints, exit codes, and what stays stored.
 */

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

const form = (req: Recorded) => Object.fromEntries(new URLSearchParams(req.body));

/** A token endpoint that rotates refresh tokens, and a revocation endpoint run by `revocation`. */
async function setup(t: TestContext, revocation: Handler, connection: Record<string, unknown> = {}) {
  let n = 0;
  const server = await startServer((req, res) => {
    if (req.path === "/revoke") return revocation(req, res);
    n++;
    return json(res, 200, { access_token: `access-${n}`, token_type: "Bearer", expires_in: 3600, refresh_token: `refresh-${n}` });
  });
  t.after(() => server.close());
  const dir = await mkdtemp(join(tmpdir(), "tokensmith-revoke-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const config = join(dir, "tokensmith.yaml");
  const write = (extra: Record<string, unknown>) =>
    writeFile(
      config,
      stringify({
        store: { type: "file", dir: join(dir, "store") },
        connections: {
          api: {
            grant: "refresh_token",
            token_url: `${server.url}/token`,
            revocation_url: `${server.url}/revoke`,
            client_id: "client",
            client_secret: "secret-value",
            refresh_token: "the-seed",
            timeout: 2,
            ...connection,
            ...extra,
          },
        },
      }),
    );
  await write({});
  const run = (...args: string[]) => cli([...args, "--config", config]);
  const calls = (path: string) => server.requests.filter((r) => r.path === path).map(form);
  return { server, run, write, calls };
}

describe("tokensmith revoke", () => {
  it("revokes the refresh token first with its hint, then the access token, and leaves a tombstone", async (t) => {
    const { run, calls } = await setup(t, (_req, res) => res.end());
    assert.equal((await run("token", "api")).stdout.trim(), "access-1");
    const result = await run("revoke", "api", "--json");
    assert.equal(result.code, 0, result.stdout);
    const doc = JSON.parse(result.stdout);
    assert.deepEqual(doc, { connection: "api", revoked: ["refresh_token", "access_token"], warnings: [], dropped: true });
    assertMatchesSchema("revoke", doc);
    assert.deepEqual(
      calls("/revoke").map((c) => [c.token, c.token_type_hint]),
      [
        ["refresh-1", "refresh_token"],
        ["access-1", "access_token"],
      ],
    );
    const after = await run("token", "api", "--json");
    assert.equal(after.code, 3, "no login left, and the used seed is not sent again");
    assert.equal(JSON.parse(after.stdout).error.code, "reauthorization_required");
  });

  it("revokes a configured seed that was never used, which is then never sent", async (t) => {
    const { run, calls } = await setup(t, (_req, res) => res.end());
    const result = await run("revoke", "api", "--json");
    assert.equal(result.code, 0, result.stdout);
    assert.deepEqual(JSON.parse(result.stdout).revoked, ["refresh_token"]);
    assert.deepEqual(calls("/revoke").map((c) => c.token), ["the-seed"]);
    assert.equal((await run("token", "api")).code, 3);
    assert.deepEqual(calls("/token"), [], "the revoked seed never reached the token endpoint");
  });

  it("leaves a never-used seed alone with --access-token: it is neither revoked nor counted as used", async (t) => {
    const { run, calls } = await setup(t, (_req, res) => res.end());
    const result = await run("revoke", "api", "--access-token", "--json");
    assert.equal(result.code, 0, result.stdout);
    assert.deepEqual(JSON.parse(result.stdout).revoked, []);
    assert.deepEqual(calls("/revoke"), []);
    assert.equal((await run("token", "api")).stdout.trim(), "access-1", "the seed still starts the login");
    assert.equal(calls("/token")[0].refresh_token, "the-seed");
  });

  it("warns on unsupported_token_type and still drops the local state", async (t) => {
    const { run } = await setup(t, (req, res) => (form(req).token_type_hint === "access_token" ? json(res, 400, { error: "unsupported_token_type" }) : res.end()));
    await run("token", "api");
    const result = await run("revoke", "api");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /unsupported_token_type/);
    assert.match((await run("status", "api")).stdout, /revoked/);
  });

  it("drops the state with a warning when the access token is refused as invalid_token after the refresh token went", async (t) => {
    // Google revokes the whole grant with the refresh token, then answers 400 invalid_token.
    const { run } = await setup(t, (req, res) => (form(req).token_type_hint === "access_token" ? json(res, 400, { error: "invalid_token" }) : res.end()));
    await run("token", "api");
    const result = await run("revoke", "api", "--json");
    assert.equal(result.code, 0, result.stdout);
    const body = JSON.parse(result.stdout);
    assert.deepEqual(body.revoked, ["refresh_token"]);
    assert.match(body.warnings.join("\n"), /already invalid/);
    assert.equal(body.dropped, true);
  });

  it("drops the state when the refresh token was revoked but the access token revocation fails", async (t) => {
    const { run } = await setup(t, (req, res) => (form(req).token_type_hint === "access_token" ? json(res, 500, { message: "oops" }) : res.end()));
    await run("token", "api");
    const result = await run("revoke", "api");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /access token could not be revoked/);
    assert.equal((await run("token", "api")).code, 3, "the revoked login is gone here too");
  });

  it("keeps the local state and exits 4 when the revocation endpoint fails, and drops it with --force", async (t) => {
    const { run, calls } = await setup(t, (_req, res) => json(res, 503, { message: "down for maintenance" }));
    await run("token", "api");
    const kept = await run("revoke", "api", "--json");
    assert.equal(kept.code, 4, kept.stdout);
    assert.match(JSON.parse(kept.stdout).error.hint, /--force/);
    assert.equal((await run("token", "api")).stdout.trim(), "access-1", "the local state was kept");
    const forced = await run("revoke", "api", "--force", "--json");
    assert.equal(forced.code, 0, forced.stdout);
    assert.equal(JSON.parse(forced.stdout).dropped, true);
    assert.ok(calls("/revoke").length >= 2);
    assert.equal((await run("token", "api")).code, 3);
  });

  it("exits 4, not 3, for a revocation endpoint answering 503 temporarily_unavailable, and --force says why it dropped", async (t) => {
    const { run } = await setup(t, (_req, res) => json(res, 503, { error: "temporarily_unavailable" }));
    await run("token", "api");
    const kept = await run("revoke", "api", "--json");
    assert.equal(kept.code, 4, kept.stdout);
    const forced = await run("revoke", "api", "--force");
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /the revocation failed \(.*temporarily_unavailable\); the local state was dropped anyway \(--force\)/);
  });

  it("keeps the local state and exits 4 when the server is unreachable, unless --force", async (t) => {
    const { run, write } = await setup(t, (_req, res) => res.end());
    await run("token", "api");
    await write({ revocation_url: "http://127.0.0.1:9/revoke" });
    assert.equal((await run("revoke", "api")).code, 4);
    assert.equal((await run("token", "api")).stdout.trim(), "access-1");
    assert.equal((await run("revoke", "api", "--force")).code, 0);
    assert.equal((await run("token", "api")).code, 3);
  });

  it("exits 2 with a hint to use logout when there is no revocation endpoint", async (t) => {
    const { run, write } = await setup(t, (_req, res) => res.end());
    await write({ revocation_url: undefined });
    const result = await run("revoke", "api", "--json");
    assert.equal(result.code, 2);
    assert.match(JSON.parse(result.stdout).error.hint, /logout/);
  });

  it("holds the update lease while revoking, so a refresh cannot rotate the token in between", async (t) => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { run, calls } = await setup(t, async (_req, res) => {
      await gate;
      res.end();
    });
    await run("token", "api");
    const revoking = run("revoke", "api");
    await new Promise((resolve) => setTimeout(resolve, 200));
    const refreshing = run("token", "api", "--force-refresh");
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    assert.equal((await revoking).code, 0);
    assert.equal((await refreshing).code, 3, "the refresh waited and found the login gone");
    assert.equal(calls("/token").length, 1, "no refresh happened with the revoked token");
  });
});

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { chmod, copyFile, readdir, readFile, rename, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { stringify } from "yaml";
import { fastAnswer, parseAsk } from "../../src/cli/fast-token.js";
import { BIN, cliProcess, hasStackTrace, type CliResult } from "../support/cli.js";
import { tmpDir } from "../support/demo.js";

/**
 * The `token`/`header` fast path (src/cli/fast-token.ts) against the built binary: whatever
 * it answers is byte for byte what the normal path prints, and whatever it cannot vouch for
 * it leaves to the normal path (`fastAnswer` undefined), whose answer or error is then the
 * user's. `--verbose` always takes the normal path (its stdout is the same).
 */

/** The build id token routes are kept for: the digest of the bundle the binary runs. */
const BUILD_ID = createHash("sha1").update(readFileSync(join(import.meta.dirname, "..", "..", "dist", "cli-bundle", "main.cjs"))).digest("hex");

async function tokenEndpoint(t: TestContext, body: (n: number) => Record<string, unknown>): Promise<{ url: string; requests: () => number }> {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(body(++n)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/token`, requests: () => n };
}

interface Setup {
  dir: string;
  config: string;
  store: string;
  env: NodeJS.ProcessEnv;
  /** The binary, in `dir`, with `env`. */
  run(...args: string[]): Promise<CliResult>;
  /** The fast path's answer for the same arguments, environment and folder. */
  fast(...args: string[]): string | undefined;
  /** Every record folder's current generation file (the token state, and what else the store keeps). */
  records(): Promise<string[]>;
}

async function setup(t: TestContext, connection: Record<string, unknown>, options: { env?: NodeJS.ProcessEnv; name?: string } = {}): Promise<Setup> {
  const dir = await tmpDir(t);
  const store = join(dir, "state");
  const config = join(dir, options.name ?? "config.yaml");
  const billing = { grant: "client_credentials", client_id: "app", client_secret: "${env:FAST_SECRET}", ...connection };
  await writeFile(config, stringify({ store: { type: "file", dir: store }, connections: { billing } }), { mode: 0o600 });
  const env = { PATH: process.env.PATH, HOME: dir, XDG_CACHE_HOME: join(dir, "cache"), XDG_STATE_HOME: join(dir, "xdg-state"), FAST_SECRET: "s3cret-value", ...options.env };
  return {
    dir,
    config,
    store,
    env,
    run: (...args) => cliProcess(args, { env, cwd: dir }),
    fast: (...args) => fastAnswer(args, BUILD_ID, { env, cwd: dir }),
    async records() {
      const records = join(store, "records");
      const current = async (id: string) => {
        const gens = (await readdir(join(records, id))).filter((n) => n.startsWith("gen-"));
        return join(records, id, gens.sort((a, b) => Number(b.slice(4)) - Number(a.slice(4)))[0]);
      };
      return Promise.all((await readdir(records)).map(current));
    },
  };
}

/** A normal-path run that leaves the route behind, checked. */
async function primed(s: Setup, ...args: string[]): Promise<CliResult> {
  const first = await s.run(...args);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stderr, "");
  return first;
}

describe("the token fast path", () => {
  it("prints byte for byte what the normal path prints: token, --json, header, header --json", async (t) => {
    const server = await tokenEndpoint(t, (n) => ({ access_token: `at-${n}`, token_type: "bearer", scope: "a b", instance_url: "https://na1.example.com", id_token: "x.y.z" }));
    const s = await setup(t, { token_url: server.url, default_ttl: "never", header: { name: "X-Api-Token", value: "Token {token}" } });
    assert.equal(s.fast("token", "billing", "--config", s.config), undefined, "no route before the normal path served it");
    await primed(s, "token", "billing", "--config", s.config);
    for (const args of [
      ["token", "billing", "--config", s.config],
      ["--config", s.config, "token", "--json", "billing"],
      ["header", "billing", `--config=${s.config}`],
      ["header", "billing", "--json", "--quiet", "--config", s.config],
      ["token", "billing", "--min-ttl", "30", "--config", s.config],
    ]) {
      const normal = await s.run(...args, "--verbose");
      assert.equal(normal.code, 0, normal.stderr);
      const fast = s.fast(...args);
      assert.notEqual(fast, undefined, `served fast: ${args.join(" ")}`);
      assert.equal(fast, normal.stdout, args.join(" "));
      const binary = await s.run(...args);
      assert.deepEqual(binary, { code: 0, stdout: normal.stdout, stderr: "" });
    }
    assert.equal(server.requests(), 1);
  });

  it("gives the same --json document for an expiring token (expires_in counted from now)", async (t) => {
    const server = await tokenEndpoint(t, (n) => ({ access_token: `at-${n}`, expires_in: 3600 }));
    const s = await setup(t, { token_url: server.url, scopes: ["r"] });
    await primed(s, "token", "billing", "--config", s.config);
    const normal = JSON.parse((await s.run("token", "billing", "--json", "--verbose", "--config", s.config)).stdout);
    const fast = JSON.parse(s.fast("token", "billing", "--json", "--config", s.config)!);
    assert.ok(Math.abs(fast.expires_in - normal.expires_in) <= 1);
    assert.deepEqual({ ...fast, expires_in: 0 }, { ...normal, expires_in: 0 });
  });

  it("leaves to the normal path: other flags, --min-ttl beyond the token's life, an expired token, one inside its refresh margin", async (t) => {
    const server = await tokenEndpoint(t, (n) => ({ access_token: `at-${n}`, expires_in: n === 1 ? 2 : 600 }));
    const s = await setup(t, { token_url: server.url, refresh_margin: 60 });
    await primed(s, "token", "billing", "--config", s.config);
    for (const args of [["--verbose"], ["--force-refresh"], ["--help"], ["--min-ttl", "1e3"], ["extra"], ["--config", s.config]]) {
      assert.equal(s.fast("token", "billing", "--config", s.config, ...args), undefined, args.join(" "));
    }
    assert.equal(parseAsk(["token", "billing"])?.name, "billing");
    await new Promise((r) => setTimeout(r, 1100)); // at-1 lived 2 s: usable for 0.8 s of them (§2.10)
    assert.equal(s.fast("token", "billing", "--config", s.config), undefined, "expired");
    assert.equal((await s.run("token", "billing", "--config", s.config)).stdout, "at-2\n");
    // at-2 lives 600 s: usable until 589 s (less 1 s resolution and 10 s skew); due for refresh (margin 60 s) from 529 s.
    assert.equal(s.fast("token", "billing", "--config", s.config), "at-2\n");
    assert.equal(s.fast("token", "billing", "--min-ttl", "500", "--config", s.config), "at-2\n");
    assert.equal(s.fast("token", "billing", "--min-ttl", "590", "--config", s.config), undefined, "--min-ttl beyond what is left");
    const later = Date.now() + 540_000;
    assert.equal(fastAnswer(["token", "billing", "--config", s.config], BUILD_ID, { env: s.env, cwd: s.dir, now: () => later }), undefined, "inside the refresh margin");
    const beyond = await s.run("token", "billing", "--min-ttl", "590", "--config", s.config);
    assert.equal(beyond.stdout, "at-3\n", "the normal path asks for a new token");
    assert.equal(server.requests(), 3);
  });

  it("never serves a changed config, a changed referenced variable or file, or an untrusted config from its route", async (t) => {
    const server = await tokenEndpoint(t, (n) => ({ access_token: `at-${n}`, expires_in: 3600 }));
    const s = await setup(t, { token_url: server.url, scopes: "${file:scope.txt}" }, { name: "tokensmith.yaml" });
    await writeFile(join(s.dir, "scope.txt"), "read\n", { mode: 0o600 });
    // Found in the working folder: used only once trusted (SPEC §1).
    assert.equal((await s.run("token", "billing")).code, 2);
    assert.equal((await s.run("trust")).code, 0);
    await primed(s, "token", "billing");
    assert.equal(s.fast("token", "billing"), "at-1\n");

    await writeFile(join(s.dir, "scope.txt"), "write\n");
    assert.equal(s.fast("token", "billing"), undefined, "a referenced file changed (scopes: a new fingerprint)");
    assert.equal((await s.run("token", "billing")).stdout, "at-2\n");
    assert.equal(s.fast("token", "billing"), "at-2\n", "the normal path left a new route");

    assert.equal(fastAnswer(["token", "billing"], BUILD_ID, { env: { ...s.env, FAST_SECRET: "other" }, cwd: s.dir }), undefined, "a referenced variable changed");
    assert.equal(fastAnswer(["token", "billing"], BUILD_ID, { env: { ...s.env, HTTPS_PROXY: "http://127.0.0.1:9" }, cwd: s.dir }), undefined, "a proxy variable changed");

    await writeFile(s.config, `${await readFile(s.config, "utf8")}# edited\n`);
    assert.equal(s.fast("token", "billing"), undefined, "the config changed: untrusted now");
    const untrusted = await s.run("token", "billing", "--json");
    assert.equal(untrusted.code, 2);
    assert.equal(JSON.parse(untrusted.stdout).error.code, "config_untrusted");
    assert.equal((await s.run("trust")).code, 0);
    assert.equal(s.fast("token", "billing"), undefined, "trusted again, but no route for the new text yet");
    assert.equal((await s.run("token", "billing")).stdout, "at-2\n");
    assert.equal(s.fast("token", "billing"), "at-2\n");

    assert.equal((await s.run("trust", "--revoke")).code, 0);
    assert.equal(s.fast("token", "billing"), undefined, "trust revoked");
    assert.equal((await s.run("token", "billing")).code, 2);

    assert.equal((await s.run("token", "billing", "--config", s.config)).stdout, "at-2\n", "named with --config: no trust needed");
    await chmod(s.config, 0o620);
    assert.equal(s.fast("token", "billing", "--config", s.config), undefined, "a config others may write");
    assert.equal((await s.run("token", "billing", "--config", s.config)).code, 2);
  });

  it("falls back on a tampered record, and on a key file or store folder that fails the store's checks, with the normal path's error", async (t) => {
    const server = await tokenEndpoint(t, (n) => ({ access_token: `at-${n}`, expires_in: 3600 }));
    const s = await setup(t, { token_url: server.url });
    const args = ["token", "billing", "--json", "--config", s.config];
    await primed(s, ...args);
    assert.ok(s.fast(...args));

    // A ciphertext moved from another generation fails its AAD: the normal path quarantines it and asks again.
    for (const record of await s.records()) {
      const generation = Number(record.slice(record.lastIndexOf("-") + 1));
      await rename(record, record.replace(/gen-\d+$/, `gen-${generation + 1}`));
    }
    assert.equal(s.fast(...args), undefined, "tampered");
    const recovered = await s.run(...args);
    assert.equal(recovered.code, 0);
    assert.equal(JSON.parse(recovered.stdout).access_token, "at-2");
    assert.match(recovered.stderr, /unreadable/);

    const key = join(s.store, "tokensmith.key");
    await chmod(key, 0o644);
    assert.equal(s.fast(...args), undefined, "a key file others may read");
    const loose = await s.run(...args);
    assert.equal(loose.code, 4);
    assert.equal(JSON.parse(loose.stdout).error.code, "store_error");
    assert.match(JSON.parse(loose.stdout).error.message, /readable by other users/);

    await chmod(key, 0o600);
    await copyFile(key, join(s.dir, "planted.key"));
    await chmod(join(s.dir, "planted.key"), 0o600);
    await rename(key, `${key}.real`);
    await symlink(join(s.dir, "planted.key"), key);
    assert.equal(s.fast(...args), undefined, "a planted symlink");
    const planted = await s.run(...args);
    assert.equal(planted.code, 4);
    assert.match(JSON.parse(planted.stdout).error.message, /symbolic link/);

    await rename(`${key}.real`, key);
    assert.equal(JSON.parse(s.fast(...args)!).access_token, "at-2");
    await chmod(s.store, 0o775);
    assert.equal(s.fast(...args), undefined, "a store folder others may write");
    const open = await s.run(...args);
    assert.equal(open.code, 4);
    assert.match(JSON.parse(open.stdout).error.message, /writable by other users/);
  });

  it("keeps no route where the normal path could answer otherwise: a configured store key, a run that warned, cache: process", async (t) => {
    const server = await tokenEndpoint(t, (n) => ({ access_token: `at-${n}`, expires_in: 3600 }));
    const cases: Array<[string, Record<string, unknown>, NodeJS.ProcessEnv?]> = [
      ["password grant (warns on every run, RFC 9700)", { grant: "password", username: "u", password: "p" }],
      ["cache: process", { cache: "process" }],
    ];
    for (const [what, connection] of cases) {
      const s = await setup(t, { token_url: server.url, ...connection });
      const first = await s.run("token", "billing", "--config", s.config);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(s.fast("token", "billing", "--config", s.config), undefined, what);
    }
    const keyed = await setup(t, { token_url: server.url });
    const text = (await readFile(keyed.config, "utf8")).replace(/^store:\n/m, "store:\n  key: ${env:FAST_KEY}\n");
    await writeFile(keyed.config, text);
    const env = { ...keyed.env, FAST_KEY: Buffer.alloc(32, 7).toString("base64") };
    const served = await cliProcess(["token", "billing", "--config", keyed.config], { env, cwd: keyed.dir });
    assert.equal(served.code, 0, served.stderr);
    assert.equal(fastAnswer(["token", "billing", "--config", keyed.config], BUILD_ID, { env, cwd: keyed.dir }), undefined, "store.key");
  });

  it("ends quietly when its reader has already left (`| head -c0`): exit 0, nothing on stderr, fast path or not", async (t) => {
    const server = await tokenEndpoint(t, (n) => ({ access_token: `tok-${n}`, token_type: "Bearer", expires_in: 3600 }));
    const s = await setup(t, { token_url: server.url });
    await primed(s, "token", "billing", "--config", s.config);
    for (const args of [["token", "billing", "--config", s.config], ["token", "billing", "--verbose", "--config", s.config]]) {
      if (args.includes("--verbose")) assert.equal(s.fast(...args), undefined);
      else assert.ok(s.fast(...args), "the fast path would answer");
      const child = spawn(process.execPath, [BIN, ...args], { env: s.env, cwd: s.dir, stdio: ["ignore", "pipe", "pipe"] });
      child.stdout.destroy(); // the reader is gone before the first byte is written
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      assert.equal(code, 0, `${args.join(" ")}: ${stderr}`);
      // --verbose (the normal path) reports on stderr what it did; never an error or a stack trace.
      if (args.includes("--verbose")) assert.ok(!hasStackTrace(stderr) && !/EPIPE|error/i.test(stderr), stderr);
      else assert.equal(stderr, "");
    }
    assert.equal(server.requests(), 1, "the stored token served both");
  });
});

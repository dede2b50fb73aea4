import assert from "node:assert/strict";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { stringify } from "yaml";
import { demoConfig } from "../../src/demo/config.js";
import type { DemoServer } from "../../src/demo/server.js";
import { TokenSmithError } from "../../src/errors.js";
import { TokenSmith } from "../../src/tokensmith.js";
import { cli, cliProcess, hasStackTrace } from "../support/cli.js";
import { basicAuth, postForm, tmpDir, withDemoServer } from "../support/demo.js";
import { internals } from "../../src/lifecycle/handle.js";

/** The lowest cost the bundle format accepts: the library tests need no half-second scrypt. */
const FAST = 2 ** 10;
const PASSPHRASE = "correct horse battery staple";

/** One "machine": a TokenSmith on the demo config with its own file store. */
async function machine(t: TestContext, server: DemoServer, patch: (config: any) => void = () => {}) {
  const dir = await tmpDir(t);
  const config: any = demoConfig(server, { dir: join(dir, "store") });
  patch(config);
  const warnings: string[] = [];
  const ts = await TokenSmith.load({ config, env: {}, onWarning: (w) => warnings.push(w) });
  t.after(() => ts.close());
  return { ts, warnings, config, dir };
}

/** A user-grant connection seeded with a refresh token got directly from the demo server. */
async function seededUserConnection(server: DemoServer) {
  const { basic } = server.clients;
  const { body } = await postForm(
    server.endpoints.token,
    { grant_type: "password", username: server.users.username, password: server.users.password, scope: "api:read" },
    { authorization: basicAuth(basic.clientId, basic.clientSecret) },
  );
  assert.ok(body.refresh_token, "the demo server issues a refresh token");
  return (config: any) => {
    config.connections.user = {
      token_url: server.endpoints.token,
      grant: "refresh_token",
      client_id: basic.clientId,
      client_secret: basic.clientSecret,
      scopes: ["api:read"],
      refresh_token: body.refresh_token,
    };
  };
}

async function rejects(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<TokenSmithError> {
  const err = await promise.then(
    () => assert.fail("expected an error"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof TokenSmithError, String(err));
  assert.equal(err.code, code, err.message);
  assert.match(err.message, pattern);
  return err;
}

describe("export and import of a login", () => {
  it("moves a login to another store: the target uses the token without a request and continues the refresh chain", async (t) => {
    const server = await withDemoServer(t);
    const a = await machine(t, server);
    const b = await machine(t, server);
    const token = await a.ts.connection("demo-password").accessToken();
    const bundle = await a.ts.connection("demo-password").export({ passphrase: PASSPHRASE, scryptN: FAST });

    const parsed = JSON.parse(bundle);
    assert.equal(parsed.format, "tokensmith-bundle");
    assert.equal(parsed.version, 1);
    assert.equal(parsed.connection, "demo-password");
    assert.equal(parsed.kdf.name, "scrypt");
    assert.ok(!bundle.includes(token), "the access token is encrypted");

    const result = await b.ts.import("demo-password", bundle, { passphrase: PASSPHRASE });
    assert.equal(result.replaced, false);
    assert.equal(result.hasRefreshToken, true);
    const requests = server.stats.tokenRequests;
    assert.equal(await b.ts.connection("demo-password").accessToken(), token);
    assert.equal(server.stats.tokenRequests, requests, "the imported token is used as is");

    await b.ts.connection("demo-password").accessToken({ forceRefresh: true });
    assert.equal(server.stats.byGrant.refresh_token, 1, "the target refreshed with the moved refresh token");
    assert.equal(server.stats.byGrant.password, 1, "and never needed a new password grant");
    assert.equal(server.stats.byOutcome.invalid_grant ?? 0, 0);
  });

  it("tombstones the source on a move, so its next token needs a new grant", async (t) => {
    const server = await withDemoServer(t);
    const a = await machine(t, server);
    await a.ts.connection("demo-password").accessToken();
    await a.ts.connection("demo-password").export({ passphrase: PASSPHRASE, scryptN: FAST });
    const status = await a.ts.connection("demo-password").status();
    assert.equal(status.state, "none");
    assert.equal(status.removed?.reason, "moved");
    assert.equal(status.problem, null, "a move is not a problem");
    await a.ts.connection("demo-password").accessToken();
    assert.equal(server.stats.byGrant.password, 2, "a new password grant, not the moved refresh token");
    assert.equal(server.stats.byGrant.refresh_token ?? 0, 0);
  });

  it("leaves a user-grant source needing a login, and the target's seed does not override the import", async (t) => {
    const server = await withDemoServer(t);
    const seeded = await seededUserConnection(server);
    const a = await machine(t, server, seeded);
    const b = await machine(t, server, seeded);
    await a.ts.connection("user").accessToken();
    const bundle = await a.ts.connection("user").export({ passphrase: PASSPHRASE, scryptN: FAST });
    await rejects(a.ts.connection("user").accessToken(), "reauthorization_required", /login/);

    await b.ts.import("user", bundle, { passphrase: PASSPHRASE });
    await b.ts.connection("user").accessToken({ forceRefresh: true });
    // The seed was rotated away on machine A; sending it would be a reuse and revoke the grant.
    assert.equal(server.stats.byOutcome.invalid_grant ?? 0, 0);
    assert.equal(server.stats.refreshReuseDetected, 0);
  });

  it("keeps the source with --copy, and warns", async (t) => {
    const server = await withDemoServer(t);
    const a = await machine(t, server);
    const b = await machine(t, server);
    const token = await a.ts.connection("demo-password").accessToken();
    const bundle = await a.ts.connection("demo-password").export({ passphrase: PASSPHRASE, copy: true, scryptN: FAST });
    assert.equal((await a.ts.connection("demo-password").status()).state, "valid");
    assert.equal(await a.ts.connection("demo-password").accessToken(), token);
    assert.ok(a.warnings.some((w) => /copied, not moved/.test(w)), a.warnings.join("\n"));
    await b.ts.import("demo-password", bundle, { passphrase: PASSPHRASE });
    assert.equal(await b.ts.connection("demo-password").accessToken(), token);
  });

  it("says clearly when there is nothing to export, and that a moved login was moved", async (t) => {
    const server = await withDemoServer(t);
    const a = await machine(t, server);
    await rejects(a.ts.connection("demo-password").export({ passphrase: PASSPHRASE, scryptN: FAST }), "usage_error", /no token state to export/);
    await a.ts.connection("demo-service").accessToken();
    await a.ts.connection("demo-service").export({ passphrase: PASSPHRASE, scryptN: FAST });
    const err = await rejects(a.ts.connection("demo-service").export({ passphrase: PASSPHRASE, scryptN: FAST }), "usage_error", /\(moved at /);
    assert.match(err.hint ?? "", /already exported/);
  });

  it("refuses a passphrase under 12 characters, saying why, and moves nothing, unless weakPassphrase is set", async (t) => {
    const server = await withDemoServer(t);
    const a = await machine(t, server);
    const b = await machine(t, server);
    const token = await a.ts.connection("demo-password").accessToken();
    for (const passphrase of ["x", "eleven-char"]) {
      const err = await rejects(a.ts.connection("demo-password").export({ passphrase, scryptN: FAST }), "usage_error", /shorter than 12 characters: the bundle holds a refresh token/);
      assert.match(err.hint ?? "", /weakPassphrase: true/);
    }
    assert.equal((await a.ts.connection("demo-password").status()).hasRefreshToken, true, "the refused export moved nothing");
    const bundle = await a.ts.connection("demo-password").export({ passphrase: "x", weakPassphrase: true, scryptN: FAST });
    await b.ts.import("demo-password", bundle, { passphrase: "x" });
    assert.equal(await b.ts.connection("demo-password").accessToken(), token);
    const twelve = await b.ts.connection("demo-password").export({ passphrase: "twelve-chars", scryptN: FAST });
    assert.match(twelve, /"fingerprint"/, "12 characters are enough");
  });

  it("refuses a wrong passphrase and a tampered bundle with the same clear error, and writes nothing", async (t) => {
    const server = await withDemoServer(t);
    const a = await machine(t, server);
    const b = await machine(t, server);
    await a.ts.connection("demo-password").accessToken();
    const bundle = await a.ts.connection("demo-password").export({ passphrase: PASSPHRASE, scryptN: FAST });
    await rejects(b.ts.import("demo-password", bundle, { passphrase: "not the passphrase" }), "usage_error", /wrong passphrase, or the bundle was modified/);

    const parsed = JSON.parse(bundle);
    const flip = (text: string) => {
      const i = Math.floor(text.length / 2);
      return text.slice(0, i) + (text[i] === "A" ? "B" : "A") + text.slice(i + 1);
    };
    for (const field of ["ciphertext", "tag", "iv"]) {
      const tampered = { ...parsed, [field]: flip(parsed[field]) };
      await rejects(b.ts.import("demo-password", JSON.stringify(tampered), { passphrase: PASSPHRASE }), "usage_error", /could not be decrypted/);
    }
    await rejects(b.ts.import("demo-password", JSON.stringify({ ...parsed, version: 2 }), { passphrase: PASSPHRASE }), "not_supported", /newer tokensmith/);
    await rejects(b.ts.import("demo-password", "{not json", { passphrase: PASSPHRASE }), "usage_error", /not a tokensmith bundle/);
    await rejects(b.ts.import("demo-password", bundle, { passphrase: "" }), "usage_error", /passphrase is needed/);
    assert.equal((await b.ts.connection("demo-password").status()).state, "none");
  });

  it("refuses a bundle for another token state, naming both connections", async (t) => {
    const server = await withDemoServer(t);
    const a = await machine(t, server);
    const b = await machine(t, server, (config) => {
      config.connections["other-scopes"] = { ...config.connections["demo-password"], scopes: ["api:read", "api:write"] };
    });
    await a.ts.connection("demo-password").accessToken();
    const bundle = await a.ts.connection("demo-password").export({ passphrase: PASSPHRASE, scryptN: FAST });
    for (const target of ["other-scopes", "demo-service"]) {
      const err = await rejects(b.ts.import(target, bundle, { passphrase: PASSPHRASE }), "config_invalid", /another token state/);
      assert.match(err.message, /"demo-password"/);
      assert.match(err.message, new RegExp(`"${target}"`));
    }
    // A fingerprint edited to match does not help: it is bound into the ciphertext.
    const setup = await internals(b.ts.connection("other-scopes")).setup();
    const relabelled = JSON.stringify({ ...JSON.parse(bundle), fingerprint: setup.fingerprint });
    await rejects(b.ts.import("other-scopes", relabelled, { passphrase: PASSPHRASE }), "usage_error", /could not be decrypted/);
  });
});

describe("dropping or moving a state without the connection's secrets", () => {
  it("logs out and exports on a machine whose secret variable is unset, while token still needs it", async (t) => {
    const server = await withDemoServer(t);
    const dir = await tmpDir(t);
    const config: any = demoConfig(server, { dir: join(dir, "store") });
    const secret = config.connections["demo-service"].client_secret;
    config.connections["demo-service"].client_secret = "${env:DEMO_SECRET}";
    const withSecret = await TokenSmith.load({ config, env: { DEMO_SECRET: secret } });
    t.after(() => withSecret.close());
    await withSecret.connection("demo-service").accessToken();
    await withSecret.close();

    const without = await TokenSmith.load({ config, env: {} });
    t.after(() => without.close());
    const connection = without.connection("demo-service");
    await rejects(connection.token(), "config_invalid", /DEMO_SECRET is not set/);
    const bundle = await connection.export({ passphrase: PASSPHRASE, scryptN: FAST, copy: true });
    assert.match(bundle, /"fingerprint"/);
    await connection.logout();
    const again = await TokenSmith.load({ config, env: { DEMO_SECRET: secret } });
    t.after(() => again.close());
    assert.equal((await again.connection("demo-service").status()).state, "none", "the state the secret-holder made is gone");
  });
});

describe("dropping or moving a state without the connection's secrets (the CLI)", () => {
  it("exports and logs out with the secret variable unset, and refuses when a fingerprint field is itself a secret reference", async (t) => {
    const server = await withDemoServer(t);
    const dir = await tmpDir(t);
    const config: any = demoConfig(server, { dir: join(dir, "store") });
    const secret = config.connections["demo-service"].client_secret;
    config.connections["demo-service"].client_secret = "${env:TS_TEST_DEMO_SECRET}";
    config.connections.keyed = { ...config.connections["demo-service"], token_params: { key: "${env:TS_TEST_PARAM_KEY}" } };
    const path = join(dir, "tokensmith.yaml");
    await writeFile(path, stringify(config));
    const saved = { ...process.env };
    t.after(() => {
      for (const name of ["TS_TEST_DEMO_SECRET", "TS_TEST_PARAM_KEY", "TOKENSMITH_PASSPHRASE"]) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    });
    process.env.TS_TEST_DEMO_SECRET = secret;
    assert.equal((await cli(["token", "demo-service", "--config", path])).code, 0);
    delete process.env.TS_TEST_DEMO_SECRET;
    process.env.TOKENSMITH_PASSPHRASE = PASSPHRASE;
    const exported = await cli(["export", "demo-service", "--copy", "--config", path]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /"fingerprint"/);
    assert.equal((await cli(["logout", "demo-service", "--config", path])).code, 0);
    const keyed = await cli(["logout", "keyed", "--config", path]);
    assert.equal(keyed.code, 2, "a logout that could not find the right state must not claim success");
    assert.match(keyed.stderr, /TS_TEST_DEMO_SECRET is not set/);
  });
});

// The built binary: `npm test` builds before it runs any test.
describe("tokensmith export and import (the built binary)", () => {
  it("moves a login through a 0600 file and through stdin, with the passphrase from the environment", async (t) => {
    const server = await withDemoServer(t);
    const dir = await tmpDir(t);
    const configA = join(dir, "a.yaml");
    const configB = join(dir, "b.yaml");
    await writeFile(configA, stringify(demoConfig(server, { dir: join(dir, "store-a") })));
    await writeFile(configB, stringify(demoConfig(server, { dir: join(dir, "store-b") })));
    const env = { TOKENSMITH_PASSPHRASE: PASSPHRASE };

    const token = await cliProcess(["token", "demo-password", "--config", configA]);
    assert.equal(token.code, 0, token.stderr);
    const file = join(dir, "login.bundle");
    const exported = await cliProcess(["export", "demo-password", "-o", file, "--config", configA], { env });
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const bundle = await readFile(file, "utf8");
    assert.ok(!bundle.includes(token.stdout.trim()));
    assert.equal(JSON.parse(bundle).kdf.N, 2 ** 17, "the CLI uses the full scrypt cost");

    const wrong = await cliProcess(["import", "demo-password", file, "--config", configB], { env: { TOKENSMITH_PASSPHRASE: "not the passphrase" } });
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.match(wrong.stderr, /wrong passphrase/);
    // A passphrase that is a word of the message must not rewrite it (or give itself away).
    for (const json of [false, true]) {
      const word = await cliProcess(["import", "demo-password", file, "--config", configB, ...(json ? ["--json"] : [])], { env: { TOKENSMITH_PASSPHRASE: "wrong" } });
      assert.equal(word.code, 2, word.stderr);
      const message = json ? JSON.parse(word.stdout).error.message : word.stderr;
      assert.match(message, /could not be decrypted: wrong passphrase, or the bundle was modified/);
      assert.ok(!message.includes("[redacted]"), message);
    }
    const imported = await cliProcess(["import", "demo-password", file, "--config", configB], { env });
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /imported "demo-password"/);
    const onB = await cliProcess(["token", "demo-password", "--config", configB]);
    assert.equal(onB.stdout.trim(), token.stdout.trim());

    const status = await cliProcess(["status", "demo-password", "--json", "--config", configA]);
    assert.equal(JSON.parse(status.stdout).state, "none");
    const again = await cliProcess(["export", "demo-password", "--config", configA], { env });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /no token state to export \(moved at /);

    // And back, through a pipe: export to stdout, import from stdin.
    const back = await cliProcess(["export", "demo-password", "--config", configB], { env });
    assert.equal(back.code, 0, back.stderr);
    const viaStdin = await cliProcess(["import", "demo-password", "--json", "--config", configA], { env, stdin: back.stdout });
    assert.equal(viaStdin.code, 0, viaStdin.stderr);
    assert.equal(JSON.parse(viaStdin.stdout).from, "demo-password");
    assert.equal((await cliProcess(["token", "demo-password", "--config", configA])).stdout.trim(), token.stdout.trim());
    assert.equal(server.stats.byGrant.password, 1, "one login in all");
  });

  it("refuses a short $TOKENSMITH_PASSPHRASE with exit 2 and the reason, and takes it with --weak-passphrase", async (t) => {
    const server = await withDemoServer(t);
    const dir = await tmpDir(t);
    const config = join(dir, "a.yaml");
    await writeFile(config, stringify(demoConfig(server, { dir: join(dir, "store") })));
    assert.equal((await cliProcess(["token", "demo-password", "--config", config])).code, 0);
    const env = { TOKENSMITH_PASSPHRASE: "hunter2" };
    const refused = await cliProcess(["export", "demo-password", "--config", config], { env });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /shorter than 12 characters: the bundle holds a refresh token, and scrypt only slows each guess down/);
    assert.match(refused.stderr, /hint: .*--weak-passphrase/);
    assert.ok(!hasStackTrace(refused.stderr));
    assert.equal(refused.stdout, "");
    const json = await cliProcess(["export", "demo-password", "--json", "--config", config], { env });
    assert.equal(JSON.parse(json.stdout).error.code, "usage_error");
    const status = await cliProcess(["status", "demo-password", "--json", "--config", config]);
    assert.notEqual(JSON.parse(status.stdout).state, "none", "nothing was moved");
    const weak = await cliProcess(["export", "demo-password", "--weak-passphrase", "--config", config], { env });
    assert.equal(weak.code, 0, weak.stderr);
    assert.match(weak.stdout, /"fingerprint"/);
  });
});

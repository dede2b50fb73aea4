/**
 * One suite, run against each real authorization server of test/servers (Django OAuth
 * Toolkit, Authlib, @node-oauth/oauth2-server): tokensmith's library and built CLI against the
 * server's own token, authorization, revocation and protected-resource endpoints, the server
 * judging every token through its protected resource. The server starts once per file.
 * What differs per server is data (`ServerProfile`), and docs/servers.md says the same.
 */
import assert from "node:assert/strict";
import { internals } from "../../src/lifecycle/handle.js";
import { readFile, rm, writeFile, mkdtemp } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import type { TokenState } from "../../src/lifecycle/state.js";
import { minimumTokenRequests } from "../../src/lifecycle/timing.js";
import { TokenSmith } from "../../src/tokensmith.js";
import { bundleChild } from "../e2e/fixtures/bundle-child.js";
import { startChild } from "../store/child-process.js";
import { freePort } from "../store/servers.js";
import { startAuthServer, statsDelta, unavailable, type AuthServer, type ServerKind, type ServerSpec } from "../support/auth-servers.js";
import { cliProcess } from "../support/cli.js";
import { basicAuth } from "../support/demo.js";
import type { ChainChildArgs } from "./fixtures/chain-child.js";
import { runLoad, type LoadResult } from "./fixtures/load.js";

export interface ServerProfile {
  kind: ServerKind;
  title: string;
  /** Endpoint paths, as the server spells them (trailing slashes matter for DOT). */
  paths: { token: string; authorize: string; revoke?: string; api: string };
  /** The Basic encoding this server understands; the other one is refused (`invalid_client`). */
  basicEncoding: "form" | "raw";
  /** The issuer, when the server has metadata (RFC 8414 or OpenID discovery) at all. */
  issuerPath?: string;
  /**
   * Two scopes the server grants. Connections that differ only in how the client authenticates
   * would share one token state (SPEC §2.1), so each such connection asks for its own scopes.
   */
  scopes: [string, string];
  /** How the server's protected resource answers a token a refresh has replaced. */
  replacedTokenStatus: 401 | 403;
}

const FIXTURES = join(import.meta.dirname, "fixtures");
const FORM_BROWSER = `${process.execPath} ${join(FIXTURES, "form-browser.mjs")}`;
/** Short tokens, so a few seconds see several rotations: usable 2.2 s each (SPEC §2.10). */
const TOKEN_TTL_S = 4;
const RUN_MS = 8_000;
const CALLERS = 20;
const PROCESSES = 2;
/** The acceptance bound of test/e2e/multiprocess.test.ts: the minimum (SPEC §2.10) plus one. */
const MAX_TOKEN_REQUESTS = minimumTokenRequests(RUN_MS, TOKEN_TTL_S * 1000) + 1;
/** A client secret with the characters that form and raw Basic encodings disagree on. */
const SECRET = "s3cr+t/x:y%25 &=z";
/** How long the holding proxy keeps a refresh response from its caller. */
const HOLD_MS = 1_500;
const USER = { username: "alice", password: "wonder land+%" };

export function serverSuite(profile: ServerProfile): void {
  describe(`tokensmith against ${profile.title}`, { skip: unavailable(profile.kind) }, () => {
    let server: AuthServer;
    let dir: string;
    let config: string;
    let child: string;
    let bundleDir: string | undefined;
    let slow: HoldingProxy;
    const url = (path: string) => `${server.url}${path}`;
    const other = profile.basicEncoding === "raw" ? "form" : "raw";

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), `tokensmith-${profile.kind}-test-`));
      const redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
      const spec: ServerSpec = {
        ttl: TOKEN_TTL_S,
        user: USER,
        clients: [
          { id: "service", secret: SECRET, grant: "client_credentials" },
          { id: "script", secret: SECRET, grant: "password" },
          { id: "app", secret: SECRET, grant: "authorization_code", redirect_uri: redirectUri },
        ],
      };
      const [started, bundled] = await Promise.all([startAuthServer(profile.kind, spec), bundleChild(join(FIXTURES, "chain-child.ts"))]);
      server = started;
      slow = await holdingProxy(server.url);
      child = bundled.path;
      const [a, b] = profile.scopes;
      const basic = { client_secret: SECRET, client_auth: "basic", basic_encoding: profile.basicEncoding };
      const connections: Record<string, object> = {
        service: { grant: "client_credentials", token_url: url(profile.paths.token), client_id: "service", ...basic, test_url: url(profile.paths.api) },
        "service-other-encoding": { grant: "client_credentials", token_url: url(profile.paths.token), client_id: "service", ...basic, basic_encoding: other, scopes: [b] },
        // client_auth: auto (the default with a secret) must find what this server takes.
        "service-auto": { grant: "client_credentials", token_url: url(profile.paths.token), client_id: "service", client_secret: SECRET, scopes: [a, b] },
        "service-post": { grant: "client_credentials", token_url: url(profile.paths.token), client_id: "service", client_secret: SECRET, client_auth: "post", scopes: [a] },
        script: { grant: "password", token_url: url(profile.paths.token), client_id: "script", ...basic, ...USER, test_url: url(profile.paths.api) },
        ...(profile.issuerPath
          ? { discovered: { grant: "client_credentials", issuer: url(profile.issuerPath), client_id: "service", ...basic, scopes: [a, b] } }
          : {}),
        slow: { grant: "password", scopes: [b], token_url: `${slow.url}${profile.paths.token}`, client_id: "script", ...basic, ...USER },
        chain: { grant: "password", scopes: [a], token_url: url(profile.paths.token), client_id: "script", ...basic, ...USER },
        // No client_auth: auto (the default with a secret) must find what this server takes for the code exchange too.
        "user-auto": {
          grant: "authorization_code",
          account: "auto",
          authorization_url: url(profile.paths.authorize),
          token_url: url(profile.paths.token),
          client_id: "app",
          client_secret: SECRET,
          redirect_uri: redirectUri,
          scopes: [a],
        },
        user: {
          grant: "authorization_code",
          authorization_url: url(profile.paths.authorize),
          token_url: url(profile.paths.token),
          ...(profile.paths.revoke ? { revocation_url: url(profile.paths.revoke) } : {}),
          client_id: "app",
          ...basic,
          redirect_uri: redirectUri,
          scopes: [a],
          test_url: url(profile.paths.api),
        },
      };
      config = join(dir, "tokensmith.yaml");
      await writeFile(config, stringify({ store: { type: "file", dir: join(dir, "store") }, connections }), { mode: 0o600 });
      bundleDir = bundled.dir;
    });
    after(async () => {
      await slow?.close();
      await server?.close();
      await rm(dir, { recursive: true, force: true, maxRetries: 5 });
      if (bundleDir) await rm(bundleDir, { recursive: true, force: true });
    });

    /** The server's verdict on a token: the status of its protected resource. */
    const apiStatus = async (token: string) => {
      const res = await fetch(url(profile.paths.api), { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      return res.status;
    };
    /** The Basic header this server understands (RFC 6749's form encoding, or raw). */
    const clientBasic = (id: string) => (profile.basicEncoding === "raw" ? `Basic ${Buffer.from(`${id}:${SECRET}`).toString("base64")}` : basicAuth(id, SECRET));
    const load = () => TokenSmith.load({ config, env: {} });
    const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => cliProcess(["--config", config, ...args], { env });

    it(`client_credentials, client_secret_basic with basic_encoding: ${profile.basicEncoding} and a secret with reserved characters`, async () => {
      const ts = await load();
      try {
        const token = await ts.connection("service").accessToken();
        assert.equal(await apiStatus(token), 200);
      } finally {
        await ts.close();
      }
    });

    it(`client_credentials, basic_encoding: ${other} is refused by this server (invalid_client): the reason for the setting`, async () => {
      const ts = await load();
      try {
        await assert.rejects(ts.connection("service-other-encoding").accessToken(), (err: any) => err.code === "oauth_error" && err.error === "invalid_client");
      } finally {
        await ts.close();
      }
    });

    it(`client_auth: auto (the default) finds ${profile.basicEncoding === "raw" ? "basic_raw" : "basic"} here, and says how to pin it`, async () => {
      const ts = await load();
      try {
        const token = await ts.connection("service-auto").accessToken();
        assert.equal(await apiStatus(token), 200);
        const [status] = await ts.statuses(["service-auto"]);
        assert.equal(status!.detectedClientAuth?.method, profile.basicEncoding === "raw" ? "basic_raw" : "basic");
      } finally {
        await ts.close();
      }
    });

    if (profile.issuerPath) {
      it("endpoints discovered from the issuer's metadata (the standard path answered with a redirect to the server's own)", async () => {
        const ts = await load();
        try {
          const token = await ts.connection("discovered").accessToken();
          assert.equal(await apiStatus(token), 200);
        } finally {
          await ts.close();
        }
      });
    }

    it("client_credentials, client_secret_post", async () => {
      const ts = await load();
      try {
        const token = await ts.connection("service-post").accessToken();
        assert.equal(await apiStatus(token), 200);
      } finally {
        await ts.close();
      }
    });

    it("password grant; `tokensmith test` and `tokensmith call` (built CLI) against the protected resource", async () => {
      const ts = await load();
      try {
        const token = await ts.connection("script").accessToken();
        assert.equal(await apiStatus(token), 200);
      } finally {
        await ts.close();
      }
      const test = await cli(["test", "script"]);
      assert.equal(test.code, 0, test.stderr + test.stdout);
      const call = await cli(["call", "script", url(profile.paths.api)]);
      assert.equal(call.code, 0, call.stderr);
      assert.equal(JSON.parse(call.stdout).user, USER.username);
    });

    it(`a token replaced by a refresh elsewhere: the server answers ${profile.replacedTokenStatus}, connection.fetch recovers with the stored token`, async () => {
      const [a, b] = await Promise.all([load(), load()]);
      try {
        const first = await a.connection("script").accessToken();
        const second = await b.connection("script").accessToken({ forceRefresh: true });
        assert.notEqual(second, first);
        assert.equal(await apiStatus(first), profile.replacedTokenStatus, "the server drops the old access token at a refresh");
        const res = await a.connection("script").fetch(url(profile.paths.api));
        assert.equal(res.status, 200, await res.text());
        assert.equal(await apiStatus(second), 200);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it(`a token dropped by a refresh still in flight in another process: connection.fetch waits for that refresh and sends the new token`, async () => {
      const [a, b] = await Promise.all([load(), load()]);
      try {
        const first = await a.connection("slow").accessToken();
        const held = slow.holdNextRefresh(HOLD_MS);
        const refreshing = b.connection("slow").accessToken({ forceRefresh: true });
        await held.answered; // the server has rotated: `first` is gone there; b has not got the new token yet
        assert.equal(await apiStatus(first), profile.replacedTokenStatus);
        const res = await a.connection("slow").fetch(url(profile.paths.api));
        assert.equal(res.status, 200, await res.text());
        const second = await refreshing;
        assert.notEqual(second, first);
        assert.equal(await apiStatus(second), 200);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it(`a refresh chain under the server's rotation: ${CALLERS} callers here and ${PROCESSES} processes on one file store for ${RUN_MS / 1000} s of ${TOKEN_TTL_S}-second tokens, 0 invalid_grant, at most ${MAX_TOKEN_REQUESTS} token requests`, async (t) => {
      const checkUrl = url(profile.paths.api);
      const children = Array.from({ length: PROCESSES }, () => {
        const args: ChainChildArgs = { config, connection: "chain", callers: CALLERS, runMs: RUN_MS, checkUrl };
        return startChild(child, args, []);
      });
      t.after(() => Promise.all(children.map((c) => c.kill())));
      await Promise.all(children.map((c) => c.next("ready")));
      const ts = await load();
      const before = await server.stats();
      try {
        for (const c of children) c.send("go");
        const [here, ...others] = await Promise.all([
          runLoad(ts.connection("chain"), { callers: CALLERS, runMs: RUN_MS, checkUrl }),
          ...children.map(async (c) => (await c.next("done")).result as LoadResult),
        ]);
        const delta = statsDelta(before, await server.stats());
        const results = [here, ...others];
        const sum = (field: "calls" | "failed" | "apiCalls" | "apiLate" | "apiRejected") => results.reduce((n, r) => n + r[field], 0);
        const requests = (delta.by_grant.password ?? 0) + (delta.by_grant.refresh_token ?? 0);
        t.diagnostic(
          `${profile.kind}: ${requests} token requests (${JSON.stringify(delta.by_grant)}; SPEC §2.10 minimum ${MAX_TOKEN_REQUESTS - 1}), ` +
            `errors ${JSON.stringify(delta.errors)}, ${sum("calls")} calls, ${sum("failed")} failed, API ${sum("apiCalls")} checks, ${sum("apiRejected")} rejected, ${sum("apiLate")} too late`,
        );
        assert.equal(sum("failed"), 0, results.flatMap((r) => r.failures).join("\n"));
        assert.equal(delta.errors.invalid_grant ?? 0, 0, "no refresh token was used twice");
        assert.deepEqual(delta.errors, {}, "no token request failed");
        assert.equal(sum("apiRejected"), 0, results.flatMap((r) => r.rejections).join("\n"));
        // Ran, not how fast: a machine this loaded may starve a process for seconds.
        assert.ok(results.every((r) => r.calls > 0 && r.apiCalls > 0), "every process's callers and checker ran");
        assert.equal(delta.by_grant.password, 1, "one password login, then only refreshes");
        assert.ok(requests <= MAX_TOKEN_REQUESTS, `${requests} token requests, at most ${MAX_TOKEN_REQUESTS}`);
      } finally {
        await ts.close();
      }
    });

    it("authorization code with PKCE through `tokensmith login` (a stand-in browser signs in and consents)", async () => {
      const log = join(dir, "browser.log");
      const login = await cli(["login", "user", "--timeout", "30"], { BROWSER: FORM_BROWSER, FORM_BROWSER_USER: USER.username, FORM_BROWSER_PASSWORD: USER.password, FORM_BROWSER_LOG: log });
      const steps = await readFile(log, "utf8").catch(() => "");
      assert.equal(login.code, 0, `${login.stderr}\n${steps}`);
      assert.match(login.stderr, /logged in: "user"/);
      const authorize = steps.split("\n").filter(Boolean).map((line) => JSON.parse(line)).find((e) => e.step === "callback");
      assert.ok(authorize?.query.code, steps);
      const token = await cli(["token", "user"]);
      assert.equal(token.code, 0, token.stderr);
      assert.equal(await apiStatus(token.stdout.trim()), 200);
      const refreshed = await cli(["token", "user", "--force-refresh"]);
      assert.equal(refreshed.code, 0, refreshed.stderr);
      assert.notEqual(refreshed.stdout.trim(), token.stdout.trim());
      assert.equal(await apiStatus(refreshed.stdout.trim()), 200);
      const test = await cli(["test", "user"]);
      assert.equal(test.code, 0, test.stderr + test.stdout);
    });

    it("`tokensmith login` with client_auth auto: the code exchange finds the client authentication this server takes", async () => {
      const login = await cli(["login", "user-auto", "--timeout", "30"], { BROWSER: FORM_BROWSER, FORM_BROWSER_USER: USER.username, FORM_BROWSER_PASSWORD: USER.password });
      assert.equal(login.code, 0, login.stderr);
      const token = await cli(["token", "user-auto", "--force-refresh"]);
      assert.equal(token.code, 0, token.stderr);
      assert.equal(await apiStatus(token.stdout.trim()), 200);
    });

    if (profile.paths.revoke) {
      it("`tokensmith revoke`: the server refuses the refresh token and the access token afterwards", async () => {
        // A fresh pair first: the tokens live 4 s, and a loaded machine takes longer than that
        // between the login test and this one (the stored access token was seen to expire).
        const fresh = await cli(["token", "user", "--force-refresh"]);
        assert.equal(fresh.code, 0, fresh.stderr);
        const { accessToken, refreshToken } = await stored("user");
        assert.ok(refreshToken, "the login stored a refresh token");
        assert.equal(await apiStatus(accessToken), 200);
        const revoke = await cli(["revoke", "user"]);
        assert.equal(revoke.code, 0, revoke.stderr);
        assert.notEqual(await apiStatus(accessToken), 200, "the access token is revoked");
        const res = await fetch(url(profile.paths.token), {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", authorization: clientBasic("app") },
          body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken }),
        });
        assert.equal(res.status >= 400, true);
        assert.equal(((await res.json()) as { error: string }).error, "invalid_grant", "the refresh token is revoked");
        const token = await cli(["token", "user"]);
        assert.equal(token.code, 3, "a new login is needed");
      });
    } else {
      it("`tokensmith revoke`: no revocation endpoint, exit 2 with the hint to use logout", async () => {
        const revoke = await cli(["revoke", "user"]);
        assert.equal(revoke.code, 2, revoke.stderr);
        assert.match(revoke.stderr, /logout/);
      });
    }

    /** A connection's stored tokens, read the way any process would. */
    async function stored(name: string): Promise<{ accessToken: string; refreshToken?: string }> {
      const ts = await load();
      try {
        const { store, fingerprint } = await internals(ts.connection(name)).setup();
        const state = await store.get<TokenState>(`state:${fingerprint}`);
        assert.ok(state, `${name} has a stored state`);
        assert.ok(state.value.accessToken);
        return { accessToken: state.value.accessToken, refreshToken: state.value.refreshToken ?? undefined };
      } finally {
        await ts.close();
      }
    }
  });
}

interface HoldingProxy {
  url: string;
  /** Holds the next refresh_token response for `ms` after the server has answered it. */
  holdNextRefresh(ms: number): { answered: Promise<void> };
  close(): Promise<void>;
}

/**
 * A pass-through to the server's token endpoint that can hold one refresh response back, so a
 * test sees the moment between the server's rotation and its caller's store write.
 */
async function holdingProxy(target: string): Promise<HoldingProxy> {
  let hold: { ms: number; answered: () => void } | undefined;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== "host" && k !== "content-length")) as Record<string, string>;
    const upstream = await fetch(`${target}${req.url}`, { method: req.method, headers, body: req.method === "POST" ? body : undefined });
    const text = await upstream.text();
    const mine = hold && new URLSearchParams(body.toString()).get("grant_type") === "refresh_token" ? hold : undefined;
    if (mine) {
      hold = undefined;
      mine.answered();
      await new Promise((resolve) => setTimeout(resolve, mine.ms));
    }
    res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/json" });
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    holdNextRefresh(ms) {
      let answered!: () => void;
      const promise = new Promise<void>((resolve) => (answered = resolve));
      hold = { ms, answered };
      return { answered: promise };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

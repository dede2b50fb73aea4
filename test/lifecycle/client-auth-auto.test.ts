import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServerResponse } from "node:http";
import { after, describe, test } from "node:test";
import { formEncode } from "../../src/protocol/client-auth.js";
import { TokenSmith } from "../../src/tokensmith.js";
import { json, startServer, type Recorded, type TestServer } from "../protocol/helpers.js";

/**
 * `client_auth: auto` (SPEC §1) against three token endpoints, each enforcing one reading of
 * RFC 6749 §2.3.1, with a secret that has reserved characters (so form and raw Basic differ).
 */
const CLIENT_ID = "svc.reports@app";
const SECRET = "p@ss/w0rd+%&=~ x";

type Accepts = "raw-basic" | "post" | "form-basic";

function basicPair(req: Recorded): [string, string] | undefined {
  const header = req.headers.authorization;
  if (!header?.startsWith("Basic ")) return undefined;
  const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
  const at = decoded.indexOf(":");
  return [decoded.slice(0, at), decoded.slice(at + 1)];
}

/** A token endpoint that accepts one client authentication method only, refusing the others with 401 invalid_client. */
function endpoint(accepts: Accepts) {
  return (req: Recorded, res: ServerResponse) => {
    const body = new URLSearchParams(req.body);
    const pair = basicPair(req);
    let ok = false;
    // Like @node-oauth/oauth2-server and Authlib: the Basic credentials are taken as they are, never URL-decoded.
    if (accepts === "raw-basic") ok = !!pair && pair[0] === CLIENT_ID && pair[1] === SECRET && !body.has("client_secret");
    // RFC 6749 Appendix B: form-decode id and secret (so a raw `+` would be a space, `%26` an `&`).
    if (accepts === "form-basic") {
      const decode = (v: string) => decodeURIComponent(v.replace(/\+/g, " "));
      ok = !!pair && pair[0] === formEncode(CLIENT_ID) && decode(pair[0]) === CLIENT_ID && pair[1] === formEncode(SECRET) && decode(pair[1]) === SECRET;
    }
    if (accepts === "post") ok = !pair && body.get("client_id") === CLIENT_ID && body.get("client_secret") === SECRET;
    if (!ok) return json(res, 401, { error: "invalid_client" }, { "WWW-Authenticate": 'Basic realm="token"' });
    if (req.path === "/revoke") return json(res, 200, {});
    // RFC 8628: the device authorization, then (approved at once) the token for the device code.
    if (req.path === "/device") return json(res, 200, { device_code: "dc-1", user_code: "ABCD-EFGH", verification_uri: "https://example.com/verify", expires_in: 60, interval: 1 });
    if (body.get("grant_type") === "urn:ietf:params:oauth:grant-type:device_code" && body.get("device_code") !== "dc-1") return json(res, 400, { error: "invalid_grant" });
    return json(res, 200, { access_token: `token-${accepts}-${Math.random()}`, token_type: "Bearer", expires_in: 3600 });
  };
}

const dirs: string[] = [];
const servers: TestServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function setup(accepts: Accepts, secret = SECRET) {
  const server = await startServer(endpoint(accepts));
  servers.push(server);
  const dir = mkdtempSync(join(tmpdir(), "tokensmith-auto-"));
  dirs.push(dir);
  const config = {
    store: { type: "file", dir },
    connections: {
      api: { grant: "client_credentials", token_url: `${server.url}/token`, revocation_url: `${server.url}/revoke`, client_id: CLIENT_ID, client_secret: secret, allow_insecure_http: true },
      device: { grant: "device_code", token_url: `${server.url}/token`, device_authorization_url: `${server.url}/device`, client_id: CLIENT_ID, client_secret: secret, allow_insecure_http: true },
    },
  };
  const open = () => TokenSmith.load({ config, env: {}, refreshAhead: false });
  return { server, open };
}

const METHOD: Record<Accepts, string> = { "form-basic": "basic", "raw-basic": "basic_raw", post: "post" };
/** Requests `auto` makes before the method a server accepts: basic form, basic raw, post. */
const TRIES: Record<Accepts, number> = { "form-basic": 1, "raw-basic": 2, post: 3 };

describe("client_auth: auto", () => {
  for (const accepts of ["raw-basic", "post", "form-basic"] as const) {
    test(`finds the method of a server that takes only ${accepts} in ${TRIES[accepts]} request(s), remembers it, and a second process uses it without retries`, async () => {
      const { server, open } = await setup(accepts);
      const first = await open();
      const token = await first.connection("api").accessToken();
      assert.match(token, new RegExp(`^token-${accepts}-`));
      assert.equal(server.requests.length, TRIES[accepts]);
      const [status] = await first.statuses(["api"]);
      assert.equal(status!.detectedClientAuth?.method, METHOD[accepts]);
      assert.match(status!.detectedClientAuth!.pin, accepts === "post" ? /^client_auth: post$/ : accepts === "raw-basic" ? /basic_encoding: raw/ : /^client_auth: basic$/);
      const diagnosis = await first.connection("api").test();
      assert.match(diagnosis.steps.find((step) => step.step === "token")!.detail, new RegExp(`client_auth auto found ${METHOD[accepts]}, pin it with ${status!.detectedClientAuth!.pin}`));
      await first.close();

      // A second process on the same store: the remembered method, one request.
      const second = await open();
      const before = server.requests.length;
      const again = await second.connection("api").accessToken({ forceRefresh: true });
      assert.match(again, new RegExp(`^token-${accepts}-`));
      assert.equal(server.requests.length - before, 1);
      await second.close();
    });
  }

  for (const accepts of ["raw-basic", "post"] as const) {
    test(`a device login finds the method of a server that takes only ${accepts} for its own requests`, async () => {
      const { server, open } = await setup(accepts);
      const ts = await open();
      const result = await ts.connection("device").login({ flow: "device", openBrowser: false, onUserCode: () => {} });
      assert.equal(result.connection, "device");
      const authorizations = server.requests.filter((r) => r.path === "/device");
      // Tried in order at the device authorization (form Basic refused first), then the one found for the polls.
      assert.equal(authorizations.length, TRIES[accepts]);
      const polls = server.requests.filter((r) => new URLSearchParams(r.body).get("grant_type")?.endsWith("device_code"));
      assert.equal(polls.length, 1);
      assert.match(await ts.connection("device").accessToken(), new RegExp(`^token-${accepts}-`));
      await ts.close();
    });
  }

  test("revocation authenticates the way auto found for the token endpoint", async () => {
    const { server, open } = await setup("post");
    const ts = await open();
    await ts.connection("api").accessToken();
    const before = server.requests.length;
    const result = await ts.connection("api").revoke();
    assert.deepEqual(result.revoked, ["access_token"]);
    const revocations = server.requests.slice(before);
    assert.equal(revocations.length, 1);
    assert.equal(new URLSearchParams(revocations[0]!.body).get("client_secret"), SECRET);
    await ts.close();
  });

  test("a wrong secret costs at most 3 requests, then the remembered error without another request", async () => {
    const { server, open } = await setup("post", "wrong" + SECRET);
    const ts = await open();
    await assert.rejects(ts.connection("api").accessToken(), (err: unknown) => (err as { error?: string }).error === "invalid_client");
    assert.equal(server.requests.length, 3);
    await assert.rejects(ts.connection("api").accessToken());
    assert.equal(server.requests.length, 3);
    await ts.close();
  });
});

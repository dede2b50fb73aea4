import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  DEFAULT_DEVICE_INTERVAL_MS,
  pollDeviceToken,
  processDeviceAuthorizationResponse,
  requestDeviceAuthorization,
} from "../../src/protocol/device.js";
import { DEVICE_CODE_GRANT_TYPE } from "../../src/protocol/token-request.js";
import { caught, client, deps, form, json, startServer, type TestServer } from "./helpers.js";

describe("device authorization (RFC 8628)", () => {
  let server: TestServer;
  const pollAnswers: Array<[number, unknown]> = [];
  before(async () => {
    server = await startServer((req, res) => {
      if (req.path === "/device") {
        return json(res, 200, {
          device_code: "dev-code-123456",
          user_code: "WDJB-MJHT",
          verification_uri: "https://example.com/device",
          verification_uri_complete: "https://example.com/device?user_code=WDJB-MJHT",
          expires_in: 1800,
          interval: 3,
        });
      }
      const [status, body] = pollAnswers.shift()!;
      json(res, status, body);
    });
  });
  after(() => server.close());

  const conn = () => client({ grant: "device_code", clientAuth: "none", scopes: ["read"] });
  const endpoints = () => ({ deviceAuthorizationUrl: `${server.url}/device`, tokenUrl: `${server.url}/token` });

  it("requests a device code with client_id and scope", async () => {
    const auth = await requestDeviceAuthorization(conn(), endpoints(), deps);
    assert.deepEqual(auth, {
      deviceCode: "dev-code-123456",
      userCode: "WDJB-MJHT",
      verificationUri: "https://example.com/device",
      verificationUriComplete: "https://example.com/device?user_code=WDJB-MJHT",
      expiresInMs: 1_800_000,
      intervalMs: 3_000,
    });
    assert.deepEqual(form(server.requests.at(-1)!.body), { scope: "read", client_id: "my-client" });
  });

  it("turns each poll answer into a typed result", async () => {
    pollAnswers.push(
      [400, { error: "authorization_pending" }],
      [400, { error: "slow_down" }],
      [400, { error: "expired_token", error_description: "too late" }],
      [400, { error: "access_denied" }],
      [200, { access_token: "at", token_type: "Bearer", expires_in: 60 }],
    );
    const poll = () => pollDeviceToken(conn(), endpoints(), "dev-code-123456", deps);
    assert.equal((await poll()).status, "pending");
    assert.equal((await poll()).status, "slow_down");
    const expired = await poll();
    assert.equal(expired.status, "expired");
    assert.equal(expired.status === "expired" && expired.errorDescription, "too late");
    assert.equal((await poll()).status, "denied");
    const done = await poll();
    assert.equal(done.status, "authorized");
    assert.equal(done.status === "authorized" && done.tokens.accessToken, "at");
    assert.equal(typeof done.sentAt, "number");
    assert.equal(form(server.requests.at(-1)!.body).grant_type, DEVICE_CODE_GRANT_TYPE);
  });

  it("throws other poll errors as oauth_error", async () => {
    pollAnswers.push([400, { error: "invalid_client" }]);
    const err = await caught(() => pollDeviceToken(conn(), endpoints(), "dev-code-123456", deps));
    assert.equal(err.code, "oauth_error");
    assert.equal(err.error, "invalid_client");
  });

  it("accepts Google's verification_url and defaults the interval to 5 s", () => {
    const auth = processDeviceAuthorizationResponse({
      status: 200,
      headers: new Headers({ "content-type": "application/json" }),
      body: JSON.stringify({ device_code: "d", user_code: "u", verification_url: "https://www.google.com/device", expires_in: "1800" }),
      url: "https://oauth2.googleapis.com/device/code",
    });
    assert.equal(auth.verificationUri, "https://www.google.com/device");
    assert.equal(auth.intervalMs, DEFAULT_DEVICE_INTERVAL_MS);
  });

  it("removes terminal escapes from the user code and verification URLs it shows", () => {
    const auth = processDeviceAuthorizationResponse({
      status: 200,
      headers: new Headers({ "content-type": "application/json" }),
      body: JSON.stringify({
        device_code: "d",
        user_code: "WDJB-\u001b[2JMJHT",
        verification_uri: "https://example.com/device\u001b]8;;https://evil.example/\u0007",
        verification_uri_complete: "https://example.com/device?c=1\u009b31m",
        expires_in: 600,
      }),
      url: "https://example.com/device/code",
    });
    assert.equal(auth.userCode, "WDJB-[2JMJHT");
    assert.equal(auth.verificationUri, "https://example.com/device]8;;https://evil.example/");
    assert.equal(auth.verificationUriComplete, "https://example.com/device?c=131m");
  });

  it("refuses a device authorization response with missing fields, naming them", async () => {
    const err = await caught(() =>
      processDeviceAuthorizationResponse({ status: 200, headers: new Headers(), body: `{"device_code":"d"}`, url: "https://a/device" }),
    );
    assert.equal(err.code, "invalid_response");
    assert.match(err.message, /user_code, verification_uri, expires_in/);
  });
});

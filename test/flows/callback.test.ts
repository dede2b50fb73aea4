import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TokenSmithError } from "../../src/errors.js";
import { checkAuthorizationResponse, ISS_MISMATCH, parsePastedResponse, STATE_MISMATCH, type ExpectedResponse } from "../../src/flows/callback.js";
import { redact } from "../../src/redact.js";

const ISSUER = "https://auth.example.com";
const STATE = "k3Jd9-state-of-this-login_0123456789abcdefghij";

function expected(overrides: Partial<ExpectedResponse> = {}): ExpectedResponse {
  return { connection: "crm", state: STATE, issuer: ISSUER, isIssuer: (iss) => iss === ISSUER, issRequired: false, ...overrides };
}

const params = (query: Record<string, string>) => new URLSearchParams(query);

/** Runs `fn`, which must throw a TokenSmithError, and returns it. */
function refusal(fn: () => unknown): TokenSmithError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TokenSmithError, `expected a TokenSmithError, got ${err}`);
    return err;
  }
  assert.fail("expected a refusal");
}

describe("checking the authorization response", () => {
  it("returns the code when state and iss match", () => {
    assert.equal(checkAuthorizationResponse(params({ code: "the-code-1234", state: STATE, iss: ISSUER }), expected()), "the-code-1234");
  });

  it("refuses a response without state as state_mismatch", () => {
    const err = refusal(() => checkAuthorizationResponse(params({ code: "the-code-1234", iss: ISSUER }), expected()));
    assert.equal(err.code, "oauth_error");
    assert.equal(err.error, STATE_MISMATCH);
    assert.match(err.message, /has no state/);
  });

  it("refuses a response with another login's state, without echoing either state", () => {
    const err = refusal(() => checkAuthorizationResponse(params({ code: "the-code-1234", state: "attacker-state-xyz", iss: ISSUER }), expected()));
    assert.equal(err.error, STATE_MISMATCH);
    assert.match(err.message, /does not match this login/);
    assert.doesNotMatch(`${err.message} ${err.hint}`, /attacker-state|k3Jd9/);
  });

  it("checks state before reporting an error redirect, so a forged error is not believed", () => {
    const err = refusal(() => checkAuthorizationResponse(params({ error: "access_denied", state: "forged" }), expected()));
    assert.equal(err.error, STATE_MISMATCH);
  });

  it("refuses a response from another issuer (RFC 9207 mix-up defence)", () => {
    const err = refusal(() => checkAuthorizationResponse(params({ code: "the-code-1234", state: STATE, iss: "https://evil.example.com" }), expected()));
    assert.equal(err.code, "oauth_error");
    assert.equal(err.error, ISS_MISMATCH);
    assert.match(err.message, /evil\.example\.com, not https:\/\/auth\.example\.com/);
  });

  it("requires iss when the metadata says the server always sends it", () => {
    const err = refusal(() => checkAuthorizationResponse(params({ code: "the-code-1234", state: STATE }), expected({ issRequired: true })));
    assert.equal(err.error, ISS_MISMATCH);
    assert.match(err.message, /has no iss/);
  });

  it("accepts a response without iss from a server that does not announce it", () => {
    assert.equal(checkAuthorizationResponse(params({ code: "the-code-1234", state: STATE }), expected()), "the-code-1234");
  });

  it("reports access_denied with its description as an oauth_error", () => {
    const err = refusal(() =>
      checkAuthorizationResponse(params({ error: "access_denied", error_description: "End-User cancelled the sign-in", state: STATE, iss: ISSUER }), expected()),
    );
    assert.equal(err.code, "oauth_error");
    assert.equal(err.error, "access_denied");
    assert.equal(err.errorDescription, "End-User cancelled the sign-in");
    assert.match(err.message, /answered access_denied: End-User cancelled the sign-in/);
    assert.match(err.hint ?? "", /declined/);
  });

  it("reports other error redirects with their description and URI", () => {
    const err = refusal(() =>
      checkAuthorizationResponse(params({ error: "invalid_scope", error_description: "unknown scope foo", error_uri: "https://docs.example.com/e", state: STATE }), expected()),
    );
    assert.equal(err.error, "invalid_scope");
    assert.equal(err.errorUri, "https://docs.example.com/e");
    assert.match(err.hint ?? "", /scopes/);
  });

  it("refuses a response with neither code nor error", () => {
    const err = refusal(() => checkAuthorizationResponse(params({ state: STATE }), expected()));
    assert.equal(err.code, "oauth_error");
    assert.match(err.message, /neither a code nor an error/);
  });

  it("registers the code as a secret as soon as it is seen", () => {
    const code = "code-seen-in-a-callback-98765";
    refusal(() => checkAuthorizationResponse(params({ code, state: "wrong" }), expected()));
    assert.equal(redact(`got ${code}`), "got [redacted]");
  });
});

describe("reading a pasted redirect", () => {
  it("takes the query of a full redirected URL", () => {
    const pasted = parsePastedResponse(`  https://example.com/oauth/callback?code=abc123&state=${STATE}&iss=${encodeURIComponent(ISSUER)}\n`, "crm");
    assert.equal(pasted.kind, "url");
    assert.equal(pasted.kind === "url" && checkAuthorizationResponse(pasted.params, expected()), "abc123");
  });

  it("takes the fragment when the response came in the fragment", () => {
    const pasted = parsePastedResponse(`https://example.com/cb#code=abc123&state=${STATE}`, "crm");
    assert.equal(pasted.kind === "url" && pasted.params.get("code"), "abc123");
  });

  it("takes a bare query string", () => {
    const pasted = parsePastedResponse(`?code=abc123&state=${STATE}`, "crm");
    assert.equal(pasted.kind === "url" && pasted.params.get("state"), STATE);
  });

  it("takes a bare code, which has no state to check", () => {
    assert.deepEqual(parsePastedResponse("4/0AeaYSHB-x_y.z~1\n", "crm"), { kind: "code", code: "4/0AeaYSHB-x_y.z~1" });
  });

  it("still checks state on a pasted URL that lacks it", () => {
    const pasted = parsePastedResponse("https://example.com/cb?code=abc123", "crm");
    assert.equal(pasted.kind, "url");
    const err = refusal(() => pasted.kind === "url" && checkAuthorizationResponse(pasted.params, expected()));
    assert.equal(err.error, STATE_MISMATCH);
  });

  it("refuses an empty paste and text that is neither URL nor code as usage errors", () => {
    assert.equal(refusal(() => parsePastedResponse("   \n", "crm")).code, "usage_error");
    assert.equal(refusal(() => parsePastedResponse("I could not log in", "crm")).code, "usage_error");
  });
});

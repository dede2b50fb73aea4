import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TokenSmithError } from "../../src/errors.js";
import { checkOrigin } from "../../src/http/origins.js";

const conn = (allowInsecureHttp: boolean) => ({ name: "api", allowedOrigins: undefined, allowInsecureHttp });

describe("checkOrigin: plain http (SPEC §2.13)", () => {
  it("refuses plain http to a host other than loopback", () => {
    assert.throws(() => checkOrigin(conn(false), new URL("http://api.example.com/x")), (err: unknown) => err instanceof TokenSmithError && err.code === "usage_error");
  });

  it("allows it with allow_insecure_http, and always to loopback and over https", () => {
    checkOrigin(conn(true), new URL("http://api.example.com/x"));
    for (const url of ["http://127.0.0.1:8080/x", "http://[::1]/x", "http://localhost/x", "https://api.example.com/x"]) checkOrigin(conn(false), new URL(url));
  });
});

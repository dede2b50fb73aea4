import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { TokenSmithError } from "../../src/errors.js";
import { redact } from "../../src/redact.js";
import { loadConfig, type LoadedConfig } from "../../src/config/load.js";
import { createResolver, hasReference } from "../../src/config/references.js";
import { resolveConnection } from "../../src/config/resolve.js";

let root: string;
let home: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "tokensmith-refs-"));
  home = join(root, "home");
  await mkdir(join(root, "conf", "secrets"), { recursive: true });
  await mkdir(home, { recursive: true });
  await writeFile(join(root, "conf", "secrets", "client"), "file-secret-value\n");
  await writeFile(join(root, "conf", "two-newlines"), "value-with-two\n\n");
  await writeFile(join(root, "conf", "crlf"), "crlf-secret-value\r\n");
  await writeFile(join(home, "home-secret"), "home-secret-value");
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

function resolver(env: NodeJS.ProcessEnv = {}) {
  return createResolver({ dir: join(root, "conf"), env: { HOME: home, ...env } });
}

function failure(fn: () => unknown): TokenSmithError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TokenSmithError);
    assert.equal(err.code, "config_invalid");
    return err;
  }
  return assert.fail("expected a config error");
}

describe("${env:} and ${file:} references", () => {
  it("replaces a whole value with an environment variable", () => {
    assert.equal(resolver({ A: "alpha" }).string("${env:A}", "f"), "alpha");
  });

  it("replaces references embedded in a longer string", () => {
    const r = resolver({ HOST: "auth.example.com", PORT: "8443" });
    assert.equal(r.string("https://${env:HOST}:${env:PORT}/token", "f"), "https://auth.example.com:8443/token");
  });

  it("reads files relative to the config file's folder, stripping one trailing newline", () => {
    assert.equal(resolver().string("${file:secrets/client}", "f"), "file-secret-value");
    assert.equal(resolver().string("${file:two-newlines}", "f"), "value-with-two\n");
    assert.equal(resolver().string("${file:crlf}", "f"), "crlf-secret-value");
  });

  it("reads absolute paths and expands ~ to the home folder", () => {
    assert.equal(resolver().string(`\${file:${join(root, "conf", "secrets", "client")}}`, "f"), "file-secret-value");
    assert.equal(resolver().string("${file:~/home-secret}", "f"), "home-secret-value");
  });

  it("keeps $${ as a literal ${", () => {
    assert.equal(resolver({ A: "x" }).string("price $${env:A} and $5", "f"), "price ${env:A} and $5");
    assert.equal(hasReference("$${env:A}"), false);
    assert.equal(hasReference("a${env:A}"), true);
  });

  it("names the field and the variable when a variable is missing", () => {
    const err = failure(() => resolver().string("${env:BILLING_SECRET}", "connections.billing.client_secret"));
    assert.equal(err.field, "connections.billing.client_secret");
    assert.match(err.message, /^connections\.billing\.client_secret: environment variable BILLING_SECRET is not set$/);
  });

  it("treats an empty variable as a mistake", () => {
    const err = failure(() => resolver({ EMPTY: "" }).string("${env:EMPTY}", "x.y"));
    assert.match(err.message, /EMPTY is empty/);
  });

  it("names the field and the file when a file is missing", () => {
    const err = failure(() => resolver().string("${file:nope/key.pem}", "connections.svc.private_key"));
    assert.equal(err.field, "connections.svc.private_key");
    assert.ok(err.message.includes(join(root, "conf", "nope", "key.pem")), err.message);
    assert.match(err.hint ?? "", /config file's folder/);
  });

  it("rejects malformed references without echoing them", () => {
    for (const bad of ["${env:}", "${nope:x}", "${PLAIN}", "${env:A", "${file:}"]) {
      const err = failure(() => resolver({ A: "a" }).string(bad, "connections.a.client_secret"));
      assert.equal(err.field, "connections.a.client_secret");
    }
    const err = failure(() => resolver().string("${hunter2-literal-secret}", "f"));
    assert.ok(!err.message.includes("hunter2"));
  });

  it("registers resolved secrets for redaction", () => {
    resolver({ S: "registered-secret-123" }).string("${env:S}", "connections.a.client_secret", true);
    assert.equal(redact("echo: registered-secret-123"), "echo: [redacted]");
  });
});

describe("references in connections", () => {
  let loaded: LoadedConfig;

  before(async () => {
    const path = join(root, "conf", "tokensmith.yaml");
    await writeFile(
      path,
      [
        "connections:",
        "  billing:",
        "    token_url: https://${env:AUTH_HOST}/token",
        "    client_id: ${env:BILLING_ID}",
        "    client_secret: ${file:secrets/client}",
        "    token_params: { fb_exchange_token: '${env:EXCHANGE}', flag: 'true' }",
        "  other:",
        "    token_url: https://auth.example.com/token",
        "    client_id: other",
        "    client_secret: ${env:OTHER_SECRET}",
        "",
      ].join("\n"),
    );
    loaded = await loadConfig({ cwd: root, env: { HOME: home }, config: path });
  });

  it("resolves one connection without needing another connection's variables", () => {
    const env = { HOME: home, AUTH_HOST: "auth.example.com", BILLING_ID: "billing-id", EXCHANGE: "short-lived-token-abcdef" };
    const { connection } = resolveConnection(loaded, "billing", { env });
    assert.equal(connection.tokenUrl, "https://auth.example.com/token");
    assert.equal(connection.clientId, "billing-id");
    assert.equal(connection.clientSecret, "file-secret-value");
    assert.equal(redact("file-secret-value"), "[redacted]");
    assert.equal(redact("short-lived-token-abcdef"), "[redacted]", "credential-like token params are secrets");
    assert.equal(redact("true"), "true", "short flag values are not registered");
  });

  it("registers the private members of an inline JWK, not its public ones", async () => {
    const jwk = { kty: "EC", crv: "P-384", x: "public-x-coordinate", y: "public-y-coordinate", d: "private-d-member-value" };
    const config = { connections: { k: { token_url: "https://a.example/t", client_id: "c", private_key: jwk } } };
    const inline = await loadConfig({ config, cwd: root, env: { HOME: home } });
    resolveConnection(inline, "k", { env: { HOME: home } });
    assert.equal(redact("d=private-d-member-value"), "d=[redacted]");
    assert.equal(redact("curve P-384"), "curve P-384");
  });

  it("fails with the field path when this connection's variable is missing", () => {
    const err = failure(() => resolveConnection(loaded, "other", { env: { HOME: home } }));
    assert.equal(err.field, "connections.other.client_secret");
    assert.match(err.message, /OTHER_SECRET is not set/);
    assert.equal(err.connection, "other");
  });
});

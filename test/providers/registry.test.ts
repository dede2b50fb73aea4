import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config/load.js";
import { resolveConnection } from "../../src/config/resolve.js";
import { connectionSchema } from "../../src/config/schema.js";
import { getPreset, listPresets } from "../../src/providers/registry.js";
import { requiredVariables } from "../../src/providers/variables.js";

const ENV = { HOME: "/nonexistent-home" };
/** Values for the variables a preset has no default for (a shop, a realm, a base URL). */
const SAMPLE_VARS: Record<string, string> = { base_url: "https://sso.example.com" };
/** Preset fields that describe the preset rather than a connection. */
const META = new Set(["name", "title", "docs", "notes", "issuerTemplate", "grants", "scope_in_assertion", "credentials_format"]);

describe("provider presets", () => {
  it("finds presets by name, case-insensitively", () => {
    assert.equal(getPreset("google")?.name, "google");
    assert.equal(getPreset("Microsoft")?.name, "microsoft");
    assert.equal(getPreset("nope"), undefined);
  });

  it("lists presets sorted by name, each with a unique lowercase name", () => {
    const names = listPresets().map((p) => p.name);
    assert.deepEqual(names, [...names].sort());
    assert.equal(new Set(names).size, names.length);
    for (const name of names) assert.match(name, /^[a-z0-9-]+$/);
    assert.ok(names.includes("google") && names.includes("microsoft") && names.includes("github"));
  });

  for (const preset of listPresets()) {
    it(`${preset.name}: its fields are valid connection fields`, () => {
      const fields = Object.fromEntries(Object.entries(preset).filter(([key]) => !META.has(key)));
      const result = connectionSchema.safeParse(fields);
      assert.ok(result.success, JSON.stringify(result.error?.issues));
      // Per grant: scopes and parameters as a connection writes them.
      for (const [grant, entry] of Object.entries(preset.grants ?? {})) {
        const { default_scopes: defaults, ...own } = entry;
        const checked = connectionSchema.safeParse({ ...own, grant, ...(defaults ? { scopes: defaults } : {}) });
        assert.ok(checked.success, `${grant}: ${JSON.stringify(checked.error?.issues)}`);
      }
    });

    it(`${preset.name}: resolves with nothing but a client id, a secret and its required vars`, async () => {
      const vars = Object.fromEntries(requiredVariables(preset).map((name) => [name, SAMPLE_VARS[name] ?? `sample-${name}`]));
      const config = { connections: { c: { provider: preset.name, client_id: "id", client_secret: "preset-test-secret", vars } } };
      if (preset.credentials_format) {
        // Its client comes from a credentials file: without one, the error names that field.
        await assert.rejects(loadConfig({ config, cwd: "/", env: ENV }), (err: { field?: string }) => err.field === "connections.c.credentials_file");
        return;
      }
      const loaded = await loadConfig({ config, cwd: "/", env: ENV });
      const { connection } = resolveConnection(loaded, "c", { env: ENV });
      for (const url of [connection.tokenUrl, connection.authorizationUrl, connection.issuer].filter(Boolean)) {
        assert.match(url ?? "", /^https:\/\//);
        assert.doesNotMatch(url ?? "", /\{/);
      }
    });
  }
});

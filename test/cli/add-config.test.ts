import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configWithConnection, fileReference, keepText } from "../../src/cli/add-config.js";
import { grantsFor } from "../../src/cli/add-answers.js";
import { filterChoices } from "../../src/cli/prompt.js";
import { getPreset } from "../../src/providers/registry.js";

/** The pieces of `tokensmith add` that need no process: the config edit, the preset list filter, the grants offered. */

describe("tokensmith add: the config edit", () => {
  it("keeps the user's spacing, and falls back to the library's text when a splice would not read the same", () => {
    const original = "a: 1    # spaced\nb:\n  c: 2\n";
    assert.equal(keepText(original, "a: 1 # spaced\nb:\n  c: 2\n", "a: 1 # spaced\nb:\n  c: 2\n  d: 3\n"), "a: 1    # spaced\nb:\n  c: 2\n  d: 3\n");
    // The library changed the number of lines: its own text is used.
    assert.equal(keepText("a: [\n  1 ]\n", "a: [ 1 ]\n", "a: [ 1 ]\nb: 2\n"), "a: [ 1 ]\nb: 2\n");
  });

  it("adds under an empty or absent connections key, and refuses an existing name without force", async () => {
    assert.match(await configWithConnection("store:\n  type: memory\n", "/x/c.yaml", "n", { client_id: "i" }, false), /^store:\n {2}type: memory\nconnections:\n {2}n:\n {4}client_id: i\n$/);
    assert.match(await configWithConnection("connections:\n", "/x/c.yaml", "n", { client_id: "i" }, false), /connections:\n {2}n:\n {4}client_id: i\n$/);
    await assert.rejects(configWithConnection("connections:\n  n: {client_id: a}\n", "/x/c.yaml", "n", { client_id: "i" }, false), { code: "usage_error", message: /connection "n" already exists/ });
    await assert.rejects(configWithConnection("- a\n", "/x/c.yaml", "n", { client_id: "i" }, false), { code: "config_invalid" });
  });

  it("references a secret file relative to the config's folder when inside it, else by its absolute path", () => {
    assert.equal(fileReference("/home/u/proj/s/crm.secret", "/home/u/proj/tokensmith.yaml"), "${file:s/crm.secret}");
    assert.equal(fileReference("/etc/crm.secret", "/home/u/proj/tokensmith.yaml"), "${file:/etc/crm.secret}");
  });
});

describe("tokensmith add: the choices offered", () => {
  it("filters presets by part of the name or title, names starting with the text first", () => {
    const choices = [
      { value: "github", label: "GitHub" },
      { value: "hubspot", label: "HubSpot" },
      { value: "gitlab", label: "GitLab" },
      { value: "atlassian", label: "Atlassian (Jira)" },
    ];
    assert.deepEqual(filterChoices(choices, "hub").map((c) => c.value), ["hubspot", "github"]);
    assert.deepEqual(filterChoices(choices, "JIRA").map((c) => c.value), ["atlassian"]);
    assert.equal(filterChoices(choices, "").length, 4);
  });

  it("offers the grants a preset's endpoints allow, and those needing nothing more for a custom server", () => {
    assert.deepEqual(grantsFor(getPreset("hubspot")), ["authorization_code", "client_credentials"]);
    assert.deepEqual(grantsFor(undefined), ["authorization_code", "device_code", "client_credentials"]);
  });
});

import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { FULL_KEY, LIMITED_KEY, signIn, withDemoGateway, type DemoGateway } from "./support.js";
import { assertMatchesSchema } from "../support/json-schema.js";

/** Rewrites the gateway's config file in place, as an operator edits it before a reload. */
async function editConfig(gw: DemoGateway, edit: (config: any) => void): Promise<void> {
  const config = parse(await readFile(gw.configPath, "utf8"));
  edit(config);
  await writeFile(gw.configPath, stringify(config), { mode: 0o600 });
}

/** The names `GET /v1/connections` lists for a cookie or (default) the full key. */
async function listed(gw: DemoGateway, cookie?: string): Promise<string[]> {
  const { body } = await gw.api("/v1/connections", cookie ? { key: null, headers: { cookie } } : {});
  return (body as { name: string }[]).map((c) => c.name);
}

describe("reloading the gateway's config", () => {
  it("adds, changes and removes connections on POST /v1/reload, keeping the dashboard session and the token state", async (t) => {
    const gw = await withDemoGateway(t);
    const session = await signIn(gw.gateway);
    const before = await gw.api("/v1/connections/demo-service/token");
    await editConfig(gw, (config) => {
      config.connections["demo-extra"] = { ...config.connections["demo-service"] };
      config.connections["demo-password"].scopes = ["api:read", "api:write"];
      delete config.connections["demo-jwt"];
    });
    const reload = await fetch(`${gw.gateway.url}/v1/reload`, { method: "POST", headers: { cookie: session.cookie, "x-csrf-token": session.csrf } });
    assert.equal(reload.status, 200);
    assert.deepEqual(await reload.json(), { reloaded: true, added: ["demo-extra"], removed: ["demo-jwt"], changed: ["demo-password"], api_keys_changed: false, warnings: [] });
    assert.deepEqual(await listed(gw, session.cookie), ["demo-service", "demo-user", "demo-password", "demo-extra"], "the same session sees the new config");
    const after = await gw.api("/v1/connections/demo-service/token");
    assert.equal(after.body.access_token, before.body.access_token, "an unchanged connection keeps its token");
    assert.equal((await gw.api("/v1/connections/demo-jwt")).status, 404);
    assert.equal((await gw.api("/v1/connections/demo-extra/token")).status, 200);
  });

  it("refuses a session's reload without the CSRF token", async (t) => {
    const gw = await withDemoGateway(t);
    const { cookie } = await signIn(gw.gateway);
    const res = await fetch(`${gw.gateway.url}/v1/reload`, { method: "POST", headers: { cookie } });
    assert.equal(res.status, 403);
    assert.equal((await res.json()).error.code, "csrf_failed");
    assert.equal((await gw.api("/v1/reload")).status, 405, "GET does not reload");
  });

  it("keeps running the old config when the new one does not validate, and says which field is wrong", async (t) => {
    const outcomes: string[] = [];
    const gw = await withDemoGateway(t, { onReload: (o) => outcomes.push(o.ok ? "ok" : o.error.code) });
    await editConfig(gw, (config) => {
      config.connections["demo-extra"] = { ...config.connections["demo-service"] };
      config.connections["demo-service"].grant = "nonsense";
    });
    const refused = await gw.api("/v1/reload", { method: "POST" });
    assert.equal(refused.status, 422);
    assert.equal(refused.body.error.code, "config_invalid");
    assert.match(refused.body.error.message, /demo-service/);
    assert.deepEqual(await listed(gw), ["demo-service", "demo-user", "demo-password", "demo-jwt"], "nothing of the broken file is used");
    assert.equal((await gw.api("/v1/connections/demo-service/token")).status, 200);
    await assert.rejects(gw.gateway.reload(), /demo-service/, "Gateway.reload (SIGHUP) refuses it too");
    assert.deepEqual(outcomes, ["config_invalid", "config_invalid"]);
  });

  it("applies changed api_keys: a removed key and its dashboard session end, sign-in sessions go on", async (t) => {
    const gw = await withDemoGateway(t);
    const session = await signIn(gw.gateway);
    const keyPage = await fetch(`${gw.gateway.url}/`, { headers: { authorization: `Bearer ${LIMITED_KEY}` } });
    const keyCookie = (keyPage.headers.get("set-cookie") ?? "").split(";")[0];
    assert.deepEqual(await listed(gw, keyCookie), ["demo-service"]);
    const NEW_KEY = "new-key-after-reload-0123456789";
    await editConfig(gw, (config) => {
      config.gateway.api_keys = [{ key: FULL_KEY }, { key: NEW_KEY, connections: ["demo-user"] }];
    });
    const reload = await gw.api("/v1/reload", { method: "POST", key: NEW_KEY });
    assert.equal(reload.status, 401, "the new key works only once the config is reloaded");
    const keysReload = await gw.api("/v1/reload", { method: "POST" });
    assert.equal(keysReload.status, 200);
    assert.equal(keysReload.body.api_keys_changed, true, "a reload that changes only the keys says so");
    assert.equal((await gw.api("/v1/connections", { key: LIMITED_KEY })).status, 401, "the removed key is refused");
    assert.equal((await fetch(`${gw.gateway.url}/v1/connections`, { headers: { cookie: keyCookie } })).status, 401, "and so is its dashboard session");
    const limited = await gw.api("/v1/connections", { key: NEW_KEY });
    assert.deepEqual(limited.body.map((c: { name: string }) => c.name), ["demo-user"]);
    assert.equal((await fetch(`${gw.gateway.url}/`, { headers: { cookie: session.cookie } })).status, 200, "the signed-in browser stays signed in");
  });

  it("ends the dashboard session of a key whose connections were narrowed; the key's next session has the new scope", async (t) => {
    const gw = await withDemoGateway(t);
    const keyPage = await fetch(`${gw.gateway.url}/`, { headers: { authorization: `Bearer ${FULL_KEY}` } });
    const wide = (keyPage.headers.get("set-cookie") ?? "").split(";")[0];
    assert.equal((await listed(gw, wide)).length, 4);
    await editConfig(gw, (config) => {
      config.gateway.api_keys = [{ key: FULL_KEY, connections: ["demo-user"] }, { key: LIMITED_KEY, connections: ["demo-service"] }];
    });
    assert.equal((await gw.gateway.reload()).api_keys_changed, true);
    assert.equal((await fetch(`${gw.gateway.url}/v1/connections`, { headers: { cookie: wide } })).status, 401, "the wide session is gone");
    const again = await fetch(`${gw.gateway.url}/`, { headers: { authorization: `Bearer ${FULL_KEY}` } });
    const narrow = (again.headers.get("set-cookie") ?? "").split(";")[0];
    assert.notEqual(narrow, wide);
    assert.deepEqual(await listed(gw, narrow), ["demo-user"]);
  });

  it("refuses a limited key, and warns of settings that need a restart", async (t) => {
    const gw = await withDemoGateway(t);
    await editConfig(gw, (config) => {
      config.connections["demo-extra"] = { ...config.connections["demo-service"] };
      config.gateway.hosts = ["tokensmith.example"];
      config.store.dir = `${config.store.dir}-moved`;
    });
    const refused = await gw.api("/v1/reload", { method: "POST", key: LIMITED_KEY });
    assert.equal(refused.status, 403, "a key limited to some connections does not reload the gateway's config");
    assertMatchesSchema("gateway-error", refused.body);
    assert.equal((await gw.api("/v1/connections", { key: LIMITED_KEY })).body.length, 1, "and nothing was reloaded");
    const reload = await gw.api("/v1/reload", { method: "POST" });
    assert.equal(reload.status, 200);
    assertMatchesSchema("gateway-reload", reload.body);
    assert.deepEqual(reload.body.added, ["demo-extra"]);
    assert.deepEqual(reload.body.warnings, [
      "store changed: the running process keeps its store until it is restarted",
      "gateway.hosts changed: it applies when tokensmith serve is restarted",
    ]);
  });
});

describe("the status's can_revoke", () => {
  it("is true with a configured or discovered revocation endpoint, false without one", async (t) => {
    const gw = await withDemoGateway(t, {
      patch: (config) => {
        delete config.connections["demo-password"].revocation_url;
        // demo-jwt finds its endpoints (revocation too) in the issuer's metadata.
        delete config.connections["demo-jwt"].revocation_url;
        delete config.connections["demo-jwt"].token_url;
      },
    });
    const list = await gw.api("/v1/connections");
    const revocable = Object.fromEntries(list.body.map((c: { name: string; can_revoke: boolean }) => [c.name, c.can_revoke]));
    assert.deepEqual(revocable, { "demo-service": true, "demo-user": true, "demo-password": false, "demo-jwt": true });
    const revoke = await gw.api("/v1/connections/demo-password/revoke", { method: "POST" });
    assert.equal(revoke.body.error.code, "not_supported", "the same answer revoke itself gives");
  });
});

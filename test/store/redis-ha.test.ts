import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { after, describe, test } from "node:test";
import { Cluster, Redis } from "ioredis";
import { loadConfig } from "../../src/config/load.js";
import { resolveStoreConfig } from "../../src/config/resolve.js";
import { storeSchema } from "../../src/config/schema.js";
import { createStore } from "../../src/store/index.js";
import { parseSentinelUrl } from "../../src/store/redis-client.js";
import { createRedisStore, redisKeys } from "../../src/store/redis.js";
import type { Store } from "../../src/store/types.js";
import { testStoreDriver } from "./conformance.js";
import { flipCiphertext, using } from "./helpers.js";
import { startRedisCluster, startRedisSentinel } from "./redis-topologies.js";

/**
 * Redis Cluster (`store.cluster`) and Sentinel (`redis+sentinel://`) (SPEC §6): the
 * conformance suite on a private 3-master cluster and on a master + replica + sentinel, and what
 * only these deployments have: a record's keys in one slot, the persistence check on every
 * master, writes confirmed by the replica, a failover that loses no write.
 */

const run = promisify(execFile);
const portOf = (url: string) => Number(new URL(url).port);
const cluster = await startRedisCluster();
const sentinel = await startRedisSentinel();
after(() => Promise.all([cluster.destroy(), sentinel.destroy()]));

const KEY = randomBytes(32);
const clusterStore = (onWarning: (m: string) => void = () => {}, prefix = "ts:") => createRedisStore({ url: "", cluster: cluster.nodes, key: KEY, oldKeys: [], prefix, onWarning });
const sentinelStore = (onWarning: (m: string) => void = () => {}, prefix = "ts:") => createRedisStore({ url: sentinel.url, key: KEY, oldKeys: [], prefix, onWarning });

/** Flips one character of the stored record's ciphertext, through a plain client of the deployment. */
async function corrupt(admin: Redis | Cluster, key: string): Promise<void> {
  const record = redisKeys("ts:", key).record;
  try {
    await admin.hset(record, "data", flipCiphertext(String(await admin.hget(record, "data"))));
  } finally {
    admin.disconnect();
  }
}
const clusterAdmin = () => new Cluster(cluster.nodes.map((url) => ({ host: "127.0.0.1", port: portOf(url) })));
const sentinelAdmin = () => new Redis({ sentinels: [{ host: "127.0.0.1", port: sentinel.sentinelPort }], name: sentinel.masterName });

testStoreDriver("redis cluster", (options) => clusterStore(options?.onWarning), {
  tiers: ["in-process", "multi-process"],
  childConfig: { type: "redis", cluster: cluster.nodes, prefix: "ts:", key: KEY.toString("base64") },
  corrupt: (key) => corrupt(clusterAdmin(), key),
});

testStoreDriver("redis sentinel", (options) => sentinelStore(options?.onWarning), {
  tiers: ["in-process", "multi-process"],
  childConfig: { type: "redis", url: sentinel.url, prefix: "ts:", key: KEY.toString("base64") },
  corrupt: (key) => corrupt(sentinelAdmin(), key),
});

describe("redis cluster", () => {
  test("a record and its lease live in one slot, and updates of keys on different masters all work", async () => {
    const node = new Redis(portOf(cluster.nodes[0]), "127.0.0.1");
    try {
      const keys = Array.from({ length: 12 }, (_, i) => `slot-test/${i}`);
      const slots = new Set<number>();
      for (const key of keys) {
        const { record, lease } = redisKeys("ts:", key);
        const [a, b] = [Number(await node.cluster("KEYSLOT", record)), Number(await node.cluster("KEYSLOT", lease))];
        assert.equal(a, b, key);
        slots.add(a);
      }
      assert.ok(slots.size > 1, "the test keys spread over several slots");
      await using(clusterStore(() => {}, "ts-slots:"), async (store) => {
        for (const key of keys) await store.update(key, () => ({ key }), { mode: "wait" });
        for (const key of keys) assert.deepEqual((await store.get(key))?.value, { key });
      });
      // Really a cluster: the records are spread over its masters.
      const perNode = await Promise.all(cluster.nodes.map(async (url) => (await run("redis-cli", ["-p", String(portOf(url)), "keys", "ts-slots:*"])).stdout.split("\n").filter(Boolean).length));
      assert.equal(perNode.reduce((a, b) => a + b, 0), keys.length);
      assert.ok(perNode.filter((n) => n > 0).length > 1, `records per master: ${perNode.join(", ")}`);
    } finally {
      node.disconnect();
    }
  });

  test("persistence is checked on every master: one without AOF is named", async () => {
    const off = cluster.nodes[1];
    await run("redis-cli", ["-p", String(portOf(off)), "config", "set", "appendonly", "no"]);
    try {
      const warnings: string[] = [];
      await using(clusterStore((m) => warnings.push(m), "ts-aof:"), async (store) => {
        await store.update("k", () => ({ v: 1 }), { mode: "wait" });
      });
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.match(warnings[0], new RegExp(`AOF persistence is off on 127\\.0\\.0\\.1:${portOf(off)}`));
    } finally {
      await run("redis-cli", ["-p", String(portOf(off)), "config", "set", "appendonly", "yes"]);
    }
  });
});

describe("redis sentinel", () => {
  test("redis+sentinel URLs: several sentinels, default port, database, credentials for the master", () => {
    assert.deepEqual(parseSentinelUrl("redis+sentinel://u:p%40ss@10.0.0.1:26380,10.0.0.2/mymaster/2"), {
      sentinels: [
        { host: "10.0.0.1", port: 26380 },
        { host: "10.0.0.2", port: 26379 },
      ],
      name: "mymaster",
      db: 2,
      username: "u",
      password: "p@ss",
      tls: false,
    });
    assert.equal(parseSentinelUrl("rediss+sentinel://h:1/m").tls, true);
    for (const bad of ["redis+sentinel://h:1", "redis+sentinel://:secret-pw@h:1/m/x", "redis+sentinel://h:notaport/m"]) {
      assert.throws(
        () => parseSentinelUrl(bad),
        (err: Error & { code?: string }) => err.code === "config_invalid" && /store\.url/.test(err.message) && !err.message.includes("secret-pw"),
        bad,
      );
    }
  });

  test("the config takes url or cluster, never both, and cluster nodes must be redis URLs", async () => {
    const key = KEY.toString("base64");
    assert.equal(storeSchema.safeParse({ type: "redis", cluster: cluster.nodes, key }).success, true);
    assert.equal(storeSchema.safeParse({ type: "redis", url: sentinel.url, key }).success, true);
    const both = storeSchema.safeParse({ type: "redis", url: "redis://h", cluster: ["redis://h"], key });
    assert.deepEqual(both.error?.issues.map((i) => [i.path.join("."), i.message]), [["cluster", "give url or cluster, not both"]]);
    const neither = storeSchema.safeParse({ type: "redis", key });
    assert.match(neither.error?.issues[0]?.message ?? "", /required for store type redis \(or cluster\)/);
    await assert.rejects(createStore({ type: "redis", cluster: ["postgres://h:1"], key }), { code: "config_invalid", message: /store\.cluster\[0\]/ });
    // Neither: an error, not a silent connection to localhost:6379.
    await assert.rejects(createRedisStore({ url: "", key: KEY, oldKeys: [] }), { code: "config_invalid", message: /store\.url or store\.cluster/ });
  });

  test("a config file with a redis+sentinel URL or a cluster list resolves; a broken one names the field, never the password", async () => {
    const key = KEY.toString("base64");
    const resolved = async (store: Record<string, unknown>) => resolveStoreConfig(await loadConfig({ config: { store: { type: "redis", key, ...store } }, cwd: "/", env: {} }), {});
    const url = "redis+sentinel://:pw@10.0.0.1:26379,10.0.0.2:26380/mymaster/1";
    assert.equal((await resolved({ url })).url, url);
    assert.deepEqual((await resolved({ cluster: ["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"] })).cluster, ["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"]);
    const broken = (store: Record<string, unknown>) => resolved(store).then(() => undefined, (err: Error & { field?: string }) => err);
    const noMaster = await broken({ url: "redis+sentinel://:secret-pw@10.0.0.1:26379" });
    assert.equal(noMaster?.field, "store.url");
    assert.ok(!String(noMaster?.message).includes("secret-pw"));
    assert.equal((await broken({ cluster: ["http://10.0.0.1:7000"] }))?.field, "store.cluster[0]");
  });

  test("a write is on the replica when the update returns (WAIT), and a master killed after it loses nothing", async () => {
    const warnings: string[] = [];
    let store: Store | undefined;
    try {
      store = await sentinelStore((m) => warnings.push(m), "ts-failover:");
      for (let i = 1; i <= 3; i++) await store.update("k", (current) => ({ n: ((current?.value as { n: number } | undefined)?.n ?? 0) + 1 }), { mode: "wait" });
      const { killed, failover } = await sentinel.killMaster();
      assert.notEqual(killed, await failover);
      // The same handle finds the new master through the sentinel by itself.
      const after = await store.update("k", (current) => ({ n: ((current?.value as { n: number } | undefined)?.n ?? 0) + 1 }), { mode: "wait", deadline: Date.now() + 15_000 });
      assert.equal(after.status, "written");
      assert.deepEqual((await store.get("k"))?.value, { n: 4 });
      assert.equal((await store.get("k"))?.generation, 4);
      assert.ok(warnings.every((m) => /no replica any more/.test(m)), warnings.join("\n"));
    } finally {
      await store?.close();
    }
  });
});

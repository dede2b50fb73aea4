import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, test } from "node:test";
import { Redis } from "ioredis";
import { aofEnabled, evictsRecords, infoField } from "../../src/store/redis-durability.js";
import { createRedisStore, redisKeys } from "../../src/store/redis.js";
import { testStoreDriver } from "./conformance.js";
import { flipCiphertext, using } from "./helpers.js";
import { testOutages } from "./outage.js";
import { startPrivateRedis } from "./servers.js";

/** The shared test server (AOF off); override for another machine. */
const URL = process.env.TOKENSMITH_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
/** Every run works under prefixes of its own, deleted afterwards, so runs never collide. */
const RUN = randomBytes(4).toString("hex");
let prefixes = 0;
const freshPrefix = () => `tokensmith-test:${RUN}:${++prefixes}:`;

const admin = new Redis(URL, { lazyConnect: true });
after(async () => {
  let cursor = "0";
  do {
    const [next, found] = await admin.scan(cursor, "MATCH", `tokensmith-test:${RUN}:*`, "COUNT", 1000);
    if (found.length) await admin.del(...found);
    cursor = next;
  } while (cursor !== "0");
  await admin.quit();
});

/** The shared server runs without AOF: that warning is expected here and tested on its own below. */
const isPersistenceWarning = (message: string) => /AOF persistence is off/.test(message);

const sharedPrefix = freshPrefix();
const sharedKey = randomBytes(32);
const open = (options: { prefix?: string; key?: Buffer; onWarning?: (m: string) => void; url?: string } = {}) =>
  createRedisStore({ url: options.url ?? URL, key: options.key ?? sharedKey, oldKeys: [], prefix: options.prefix ?? sharedPrefix, onWarning: options.onWarning ?? (() => {}) });

/** Flips one character in the middle of the ciphertext of the stored record. */
async function corrupt(prefix: string, key: string): Promise<void> {
  const record = redisKeys(prefix, key).record;
  await admin.hset(record, "data", flipCiphertext(String(await admin.hget(record, "data"))));
}

testStoreDriver("redis", (options) => open({ onWarning: (m) => isPersistenceWarning(m) || options?.onWarning?.(m) }), {
  tiers: ["in-process", "multi-process", "sealed"],
  makeStoreWithOtherKey: () => open({ key: randomBytes(32), onWarning: () => {} }),
  childConfig: { type: "redis", url: URL, prefix: sharedPrefix, key: sharedKey.toString("base64") },
  corrupt: (key) => corrupt(sharedPrefix, key),
});

describe("redis store", () => {
  test("a record, its lease and its quarantined copies share one hash tag, so one cluster slot", () => {
    const keys = redisKeys("p:", "billing/{weird}key");
    const tags = [keys.record, keys.lease, keys.quarantine(3, 1)].map((k) => /\{([^}]*)\}/.exec(k)?.[1]);
    assert.match(tags[0] ?? "", /^[0-9a-f]{32}$/);
    assert.deepEqual(new Set(tags).size, 1);
    assert.ok(keys.record.startsWith("p:{") && keys.lease.startsWith("p:{"));
  });

  test("the lease is a key with a PX expiry naming its holder, and is gone after the write", async () => {
    const prefix = freshPrefix();
    const keys = redisKeys(prefix, "k");
    await using(open({ prefix }), async (store) => {
      await store.update("k", async () => {
        const ttl = await admin.pttl(keys.lease);
        assert.ok(ttl > 0 && ttl <= 2_000, `lease PTTL ${ttl}`);
        assert.equal(JSON.parse(String(await admin.get(keys.lease))).holder, "px lease test");
        return { v: 1 };
      }, { mode: "wait", leaseMs: 2_000, holder: "px lease test" });
      assert.equal(await admin.exists(keys.lease), 0);
    });
  });

  test("records never carry a TTL, even one set on them from outside", async () => {
    const prefix = freshPrefix();
    const record = redisKeys(prefix, "k").record;
    await using(open({ prefix }), async (store) => {
      await store.update("k", () => ({ v: 1 }), { mode: "wait" });
      assert.equal(await admin.pttl(record), -1);
      await admin.pexpire(record, 60_000);
      await store.update("k", () => ({ v: 2 }), { mode: "wait" });
      assert.equal(await admin.pttl(record), -1);
    });
  });

  test("no key holds the stored value in plaintext", async () => {
    const prefix = freshPrefix();
    const secret = `refresh-${randomBytes(12).toString("hex")}`;
    await using(open({ prefix }), (s) => s.update("k", () => ({ refresh_token: secret }), { mode: "wait" }).then(() => {}));
    const all = JSON.stringify(await admin.hgetall(redisKeys(prefix, "k").record));
    assert.ok(all.includes("tsr1.") && !all.includes(secret) && !all.includes(Buffer.from(secret).toString("base64")));
  });

  test("a corrupt record is renamed to a quarantine key with its bytes, and the warning names it", async () => {
    const prefix = freshPrefix();
    const warnings: string[] = [];
    await using(open({ prefix, onWarning: (m) => isPersistenceWarning(m) || warnings.push(m) }), async (store) => {
      await store.update("k", () => ({ v: 1 }), { mode: "wait" });
      await corrupt(prefix, "k");
      const damaged = await admin.hget(redisKeys(prefix, "k").record, "data");
      assert.equal(await store.get("k"), undefined);
      assert.equal(warnings.length, 1);
      const moved = /the Redis key (\S+);/.exec(warnings[0])?.[1];
      assert.ok(moved?.includes(":quarantine:1:"), warnings[0]);
      assert.equal(await admin.hget(moved!, "data"), damaged);
      assert.deepEqual(await admin.hgetall(redisKeys(prefix, "k").record), { generation: "1" });
    });
  });

  test("a record under an unknown key is a store_error and is left untouched", async () => {
    const prefix = freshPrefix();
    await using(open({ prefix, key: randomBytes(32) }), (s) => s.update("k", () => ({ v: 1 }), { mode: "wait" }).then(() => {}));
    const before = await admin.hgetall(redisKeys(prefix, "k").record);
    await using(open({ prefix, key: randomBytes(32) }), async (store) => {
      await assert.rejects(store.get("k"), { code: "store_error" });
    });
    assert.deepEqual(await admin.hgetall(redisKeys(prefix, "k").record), before);
  });

  test("AOF and the eviction policy are read from INFO, and only allkeys policies count as evicting records", () => {
    assert.equal(aofEnabled("# Persistence\r\nloading:0\r\naof_enabled:1\r\n"), true);
    assert.equal(aofEnabled("aof_enabled:0\r\n"), false);
    assert.equal(aofEnabled("loading:0\r\n"), undefined);
    assert.equal(infoField("# Memory\r\nmaxmemory_policy:allkeys-lru\r\n", "maxmemory_policy"), "allkeys-lru");
    assert.equal(evictsRecords("allkeys-lru"), true);
    assert.equal(evictsRecords("volatile-lru"), false); // only keys with a TTL, and records have none
    assert.equal(evictsRecords("noeviction"), false);
  });

  test("an unreachable server is a store_error naming it, never its password", async () => {
    await using(open({ url: "redis://:hunter2-secret@127.0.0.1:1" }), async (store) => {
      await assert.rejects(store.get("k"), (err: Error & { code: string }) => {
        assert.equal(err.code, "store_error");
        assert.match(err.message, /127\.0\.0\.1:1/);
        assert.ok(!err.message.includes("hunter2"));
        return true;
      });
    });
  });
});

describe("redis store persistence checks", () => {
  /** Opens a store on a private server started with `options`, makes one write, returns the warnings. */
  async function warningsFrom(options: Parameters<typeof startPrivateRedis>[0]): Promise<string[]> {
    const server = await startPrivateRedis(options);
    const warnings: string[] = [];
    try {
      await using(open({ url: server.url, onWarning: (m) => warnings.push(m) }), async (store) => {
        await store.get("k");
        await store.update("k", () => ({ v: 1 }), { mode: "wait" });
      });
    } finally {
      await server.destroy();
    }
    return warnings;
  }

  test("a server without AOF is reported once, naming the fix and the stronger store", async () => {
    const warnings = await warningsFrom({ aof: false });
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(warnings[0], /AOF persistence is off.*appendonly yes.*postgres store/);
  });

  test("a server with AOF and appendfsync always draws no warning", async () => {
    assert.deepEqual(await warningsFrom({ aof: true }), []);
  });

  test("a server that may evict any key under memory pressure is reported", async () => {
    const warnings = await warningsFrom({ aof: true, args: ["--maxmemory-policy", "allkeys-lru"] });
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(warnings[0], /maxmemory-policy is allkeys-lru.*noeviction/);
  });
});

testOutages("redis", {
  startServer: () => startPrivateRedis({ aof: true }),
  open: (url) => open({ url, prefix: "tokensmith:" }),
  storeSection: (url) => ({ type: "redis", url, prefix: "tokensmith-library:", key: sharedKey.toString("base64") }),
});

import { createHash } from "node:crypto";
import type { RedisClient } from "./redis-client.js";

/**
 * The Redis store's atomic steps as Lua scripts: each runs alone on the server, so a check and
 * the write it guards cannot be separated by another client. Every script touches only the
 * keys it declares, and those keys share one hash tag (one cluster slot).
 *
 * Keys: KEYS[1] the record (a hash: generation, data), KEYS[2] the lease (a string: the
 * owner's ticket, with a PX expiry). Records never get a TTL: PERSIST after every write.
 */

/**
 * Take the lease if free (SET NX PX), already ours (a retried call), or held by ARGV[3], an
 * owner the caller found dead (non-empty): {1, generation, data} or {0, ticket, pttl}.
 */
const ACQUIRE = `
local v = redis.call('GET', KEYS[2])
local dead = false
if v and ARGV[3] ~= '' then
  local ok, t = pcall(cjson.decode, v)
  dead = ok and type(t) == 'table' and t.owner == ARGV[3]
end
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
elseif dead then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
elseif v then
  return {0, v, redis.call('PTTL', KEYS[2])}
else
  redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2])
end
local r = redis.call('HMGET', KEYS[1], 'generation', 'data')
return {1, r[1], r[2]}`;

/** Extend the lease only if it is still ours. */
const RENEW = `
if redis.call('GET', KEYS[2]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return 0`;

/** The fenced write: only the lease owner, only on top of generation - 1; releases the lease and notifies. */
const WRITE = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
local g = tonumber(redis.call('HGET', KEYS[1], 'generation') or '0')
if g + 1 ~= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'generation', ARGV[2], 'data', ARGV[3])
redis.call('PERSIST', KEYS[1])
redis.call('DEL', KEYS[2])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1`;

/** Compare-and-delete release. */
const RELEASE = `
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0`;

/**
 * Moves this exact generation aside (RENAME to KEYS[2], which shares the hash tag) and leaves
 * a record holding only the generation, so the next write continues past it.
 */
const QUARANTINE = `
local r = redis.call('HMGET', KEYS[1], 'generation', 'data')
if r[1] ~= ARGV[1] or r[2] ~= ARGV[2] then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[2], 'reason', ARGV[3], 'quarantined_at', ARGV[4])
redis.call('HSET', KEYS[1], 'generation', ARGV[1])
return 1`;

export const SCRIPTS = { ACQUIRE, RENEW, WRITE, RELEASE, QUARANTINE } as const;
export type ScriptName = keyof typeof SCRIPTS;

const shas = Object.fromEntries(Object.entries(SCRIPTS).map(([name, lua]) => [name, createHash("sha1").update(lua).digest("hex")])) as Record<ScriptName, string>;

/** Runs a script by its SHA, sending the source once when the server does not have it cached. */
export async function runScript(client: RedisClient, name: ScriptName, keys: string[], args: Array<string | number>): Promise<unknown> {
  try {
    return await client.evalsha(shas[name], keys.length, ...keys, ...args);
  } catch (err) {
    if (!String((err as Error).message).startsWith("NOSCRIPT")) throw err;
    return client.eval(SCRIPTS[name], keys.length, ...keys, ...args);
  }
}

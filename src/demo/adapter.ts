import type { Adapter, AdapterPayload } from "oidc-provider";

/**
 * Storage for one demo server's artifacts (tokens, codes, grants, sessions, interactions).
 * oidc-provider's built-in memory adapter keeps one LRU of 1000 entries for the whole process:
 * two demo servers in one test run would share it, and a benchmark issuing thousands of tokens
 * would silently evict live ones. This one is a plain Map per server, with entries dropped
 * when they expire, and a grant index so that revoking a grant (rotation reuse detection,
 * revocation of a refresh token) removes every token it issued.
 */
export interface DemoStorage {
  /** The adapter factory for oidc-provider's `adapter` option (called once per model name). */
  adapterFor(model: string): Adapter;
  /** Number of live entries, for tests and the demo's status output. */
  size(): number;
}

interface Entry {
  payload: AdapterPayload;
  /** Epoch ms after which the entry is gone; Infinity when the model gave no lifetime. */
  expiresAt: number;
}

/** Models whose artifacts belong to a grant and go when it is revoked (oidc-provider's list). */
const GRANT_MEMBERS = new Set(["AccessToken", "AuthorizationCode", "RefreshToken", "DeviceCode", "BackchannelAuthenticationRequest"]);
/** How many writes between sweeps of expired entries: keeps memory flat in long benchmarks without a timer. */
const SWEEP_EVERY_WRITES = 500;
const MS_PER_S = 1000;

/** A new, empty store for one provider instance. */
export function createDemoStorage(now: () => number = Date.now): DemoStorage {
  const entries = new Map<string, Entry>();
  const byGrant = new Map<string, Set<string>>();
  const byUid = new Map<string, string>();
  const byUserCode = new Map<string, string>();
  let writes = 0;

  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= now()) {
      remove(key);
      return undefined;
    }
    return entry;
  };

  function remove(key: string): void {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    const { grantId, uid, userCode } = entry.payload;
    if (typeof grantId === "string") byGrant.get(grantId)?.delete(key);
    if (typeof uid === "string" && byUid.get(uid) === key) byUid.delete(uid);
    if (typeof userCode === "string" && byUserCode.get(userCode) === key) byUserCode.delete(userCode);
  }

  function sweep(): void {
    const t = now();
    for (const [key, entry] of entries) if (entry.expiresAt <= t) remove(key);
    for (const [grantId, keys] of byGrant) if (keys.size === 0) byGrant.delete(grantId);
  }

  function adapterFor(model: string): Adapter {
    const keyOf = (id: string) => `${model}:${id}`;
    return {
      async upsert(id, payload, expiresIn) {
        const key = keyOf(id);
        remove(key);
        const expiresAt = typeof expiresIn === "number" ? now() + expiresIn * MS_PER_S : Infinity;
        entries.set(key, { payload: structuredClone(payload), expiresAt });
        if (GRANT_MEMBERS.has(model) && typeof payload.grantId === "string") {
          const members = byGrant.get(payload.grantId) ?? new Set<string>();
          members.add(key);
          byGrant.set(payload.grantId, members);
        }
        if (model === "Session" && typeof payload.uid === "string") byUid.set(payload.uid, key);
        if (typeof payload.userCode === "string") byUserCode.set(payload.userCode, key);
        if (++writes % SWEEP_EVERY_WRITES === 0) sweep();
      },
      async find(id) {
        const entry = live(keyOf(id));
        return entry ? structuredClone(entry.payload) : undefined;
      },
      async findByUid(uid) {
        const key = byUid.get(uid);
        const entry = key === undefined ? undefined : live(key);
        return entry ? structuredClone(entry.payload) : undefined;
      },
      async findByUserCode(userCode) {
        const key = byUserCode.get(userCode);
        const entry = key === undefined ? undefined : live(key);
        return entry ? structuredClone(entry.payload) : undefined;
      },
      async consume(id) {
        const entry = live(keyOf(id));
        if (entry) entry.payload.consumed = Math.floor(now() / MS_PER_S);
      },
      async destroy(id) {
        remove(keyOf(id));
      },
      async revokeByGrantId(grantId) {
        for (const key of [...(byGrant.get(grantId) ?? [])]) if (key.startsWith(`${model}:`)) remove(key);
      },
    };
  }

  return {
    adapterFor,
    size: () => {
      sweep();
      return entries.size;
    },
  };
}

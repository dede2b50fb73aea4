import type { LoadedConfig } from "./loaded.js";

/**
 * What a re-read config changed (SIGHUP, the dashboard's Reload): compared as written, before
 * any `${env:}`/`${file:}` reference is resolved, so no secret is read to tell.
 */

/** Connections by name: new, gone, and those whose settings (or the top-level `proxy`/`tls` defaults) differ. */
export interface ConnectionChanges {
  added: string[];
  removed: string[];
  changed: string[];
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

export function connectionChanges(before: LoadedConfig, after: LoadedConfig): ConnectionChanges {
  const old = new Set(before.connectionNames());
  const now = after.connectionNames();
  const defaults = same(before.proxy, after.proxy) && same(before.tls, after.tls) && before.dir === after.dir;
  return {
    added: now.filter((name) => !old.has(name)),
    removed: before.connectionNames().filter((name) => !now.includes(name)),
    changed: now.filter((name) => old.has(name) && (!defaults || !same(before.connections[name], after.connections[name]))),
  };
}

/** True when a top-level section (`store`, `gateway`) or one of its fields is written differently. */
export function sectionChanged<K extends "store" | "gateway">(before: LoadedConfig, after: LoadedConfig, section: K, field?: keyof NonNullable<LoadedConfig[K]>): boolean {
  const pick = (loaded: LoadedConfig) => (field === undefined ? loaded[section] : (loaded[section] as Record<string, unknown> | undefined)?.[field as string]);
  return !same(pick(before), pick(after));
}

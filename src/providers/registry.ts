import { PRESETS } from "./presets.js";
import type { Preset } from "./preset.js";

export type { Preset } from "./preset.js";

const byName = new Map(PRESETS.map((preset) => [preset.name, preset]));

/** @internal The preset called `name` (case-insensitive), or undefined. */
export function getPreset(name: string): Preset | undefined {
  return byName.get(name.toLowerCase());
}

/** @internal Every preset, sorted by name (for `tokensmith providers`). */
export function listPresets(): Preset[] {
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

import { BUSINESS_PRESETS } from "./presets/business.js";
import { DEVELOPER_PRESETS } from "./presets/developer.js";
import { IDENTITY_PRESETS } from "./presets/identity.js";
import { SOCIAL_PRESETS } from "./presets/social.js";
import type { Preset } from "./preset.js";

/**
 * The preset catalogue, one data entry per provider (see registry.ts for the fields), grouped
 * in files by kind of provider. Endpoint URLs were checked against each provider's own
 * documentation (`docs`); quirks come from ../shared/PROVIDERS.md and those docs. Per-tenant,
 * per-region or per-host URLs are `{var}` templates, with defaults in `vars` where one exists.
 */
export const PRESETS: Preset[] = [...IDENTITY_PRESETS, ...DEVELOPER_PRESETS, ...BUSINESS_PRESETS, ...SOCIAL_PRESETS];

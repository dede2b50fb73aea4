import type { Preset } from "../providers/registry.js";
import { registerSecret } from "../redact.js";
import { configError, type ConfigErrorOptions } from "./issues.js";
import type { Resolver } from "./references.js";
import { hasReference } from "./references.js";
import type { ConnectionConfig } from "./schema.js";

/** The fields of a Google service-account JSON key that tokensmith reads. */
const GOOGLE_KEY_FIELDS = ["client_email", "private_key", "private_key_id", "token_uri"] as const;

/**
 * `credentials_file` (SPEC §1): a provider's credentials file read into the connection's own
 * fields, under anything the connection sets itself. A Google service-account key gives the
 * assertion's issuer (client_email), key id (private_key_id), audience and token URL
 * (token_uri), and the private key, which is registered as a secret. Not read at load,
 * where no file is.
 */
export function applyCredentialsFile(own: ConnectionConfig, preset: Preset | undefined, resolver: Resolver, path: string, options: ConfigErrorOptions): ConnectionConfig {
  const file = own.credentials_file;
  if (!file || hasReference(file)) return own;
  const field = `${path}.credentials_file`;
  if (preset?.credentials_format !== "google-service-account") {
    throw configError(field, preset ? `provider ${preset.name} reads no credentials file` : "needs a provider that reads it", { ...options, hint: "use provider: google-service-account for a Google service-account JSON key" });
  }
  // Read through the resolver: relative to the config file's folder, ~ expanded, errors naming the field.
  const text = resolver.string(`\${file:${file}}`, field);
  // The load-time resolver reads no files: the key is read when the connection is used.
  if (hasReference(text)) return own;
  let key: Record<string, unknown>;
  try {
    key = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw configError(field, `${file} is not JSON`, { ...options, hint: "give the service account's JSON key file as downloaded from the Google Cloud console" });
  }
  if (key.type !== "service_account") {
    throw configError(field, `${file} is not a service-account key (type ${JSON.stringify(key.type ?? null)})`, { ...options, hint: "create a key for the service account (IAM > Service accounts > Keys) and download it as JSON" });
  }
  for (const name of GOOGLE_KEY_FIELDS) {
    if (typeof key[name] !== "string" || !key[name]) throw configError(field, `${file} has no ${name}`, { ...options, hint: "download the service account's JSON key again" });
  }
  const { client_email: email, private_key: privateKey, private_key_id: kid, token_uri: tokenUri } = key as Record<(typeof GOOGLE_KEY_FIELDS)[number], string>;
  registerSecret(privateKey);
  return {
    ...own,
    token_url: own.token_url ?? tokenUri,
    private_key: own.private_key ?? privateKey,
    assertion: { ...own.assertion, iss: own.assertion?.iss ?? email, kid: own.assertion?.kid ?? kid, aud: own.assertion?.aud ?? tokenUri },
  };
}

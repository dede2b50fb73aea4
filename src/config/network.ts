import { registerProxyCredentials } from "../http/proxy-env.js";
import { configError, type ConfigErrorOptions } from "./issues.js";
import type { LoadedConfig } from "./loaded.js";
import { absolutePath } from "./paths.js";
import { hasReference, resolveDeep, type Resolver } from "./references.js";
import { proxyProblem } from "./gateway-rules.js";
import type { ConnectionConfig } from "./schema.js";
import type { ClientAuth, ResolvedConnection } from "./types.js";

/**
 * A connection's `proxy` and `tls` (SPEC §1): its own, else the top-level ones (`tls` field by
 * field, so a company CA at the top and a client certificate per connection combine). Paths
 * are made absolute (relative to the config file); PEM text, as `${file:}` gives it, is kept.
 * Proxy credentials are registered as secrets the moment they are resolved.
 */
export function networkSettings(
  loaded: LoadedConfig,
  own: Pick<ConnectionConfig, "proxy" | "tls">,
  resolver: Resolver,
  env: NodeJS.ProcessEnv,
  options: ConfigErrorOptions & { path: string },
): Pick<ResolvedConnection, "proxy" | "tls"> {
  const top = resolveDeep({ proxy: loaded.proxy, tls: loaded.tls }, [], resolver);
  const field = own.proxy !== undefined ? `${options.path}.proxy` : "proxy";
  const proxy = own.proxy ?? top.proxy;
  if (proxy !== undefined && !(resolver.dry && hasReference(proxy))) {
    const problem = proxyProblem(proxy);
    // Never echo the value: a proxy URL may carry a password.
    if (problem) throw configError(field, problem, options);
    if (proxy !== "none" && !resolver.dry) registerProxyCredentials(new URL(proxy));
  }
  const merged = { ...top.tls, ...own.tls };
  const file = (value: string | undefined) =>
    value === undefined || value.includes("-----BEGIN ") || (resolver.dry && hasReference(value)) ? value : absolutePath(value, loaded.dir, env);
  const tls = own.tls || top.tls ? { caFile: file(merged.ca_file), clientCert: file(merged.client_cert), clientKey: file(merged.client_key) } : undefined;
  return { proxy, tls };
}

/** Mutual-TLS client authentication (RFC 8705 §2) needs the client certificate. */
export function checkTlsClientAuth(clientAuth: ClientAuth, tls: ResolvedConnection["tls"], options: ConfigErrorOptions & { path: string }): void {
  if (clientAuth !== "tls_client_auth" && clientAuth !== "self_signed_tls_client_auth") return;
  if (tls?.clientCert && tls.clientKey) return;
  throw configError(`${options.path}.tls.client_cert`, `required for client_auth ${clientAuth}`, {
    ...options,
    hint: "set tls: {client_cert: client.pem, client_key: client-key.pem} (here or at the top level)",
  });
}

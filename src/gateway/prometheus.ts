/** Prometheus text format 0.0.4 helpers, shared by the gateway's metrics and the proxy's. */

/** Text format 0.0.4 label escaping: backslash, double quote, newline. */
function label(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** `{k="v",...}` for a sample line; empty for no labels. */
export function labels(pairs: Record<string, string>): string {
  const text = Object.entries(pairs)
    .map(([k, v]) => `${k}="${label(v)}"`)
    .join(",");
  return text ? `{${text}}` : "";
}

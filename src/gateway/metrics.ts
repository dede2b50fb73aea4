import { stateIdOfStoreKey } from "../lifecycle/runtime.js";
import { HEALTH_NAMES } from "../lifecycle/health.js";
import type { ConnectionStatus } from "../lifecycle/status.js";
import type { StoreObserver } from "./observed-store.js";
import { labels } from "./prometheus.js";
import { ProxyMetrics, type ProxyServed } from "./proxy-metrics.js";

/**
 * The gateway's Prometheus metrics (SPEC §5 `/metrics`): token requests by result, cache
 * hits, waits, refreshes and lease (lock) waits, counted around the library calls the gateway
 * makes and by the store wrapper; plus per-connection gauges read from `status`.
 */

/**
 * A lease taken within this time was free: an uncontended lease costs one local file
 * operation or one round trip to Postgres or Redis. Longer means another holder had it.
 */
export const LEASE_WAIT_THRESHOLD_MS = 50;
const MS_PER_S = 1000;

/** A counter keyed by its label values. */
class Family {
  readonly values = new Map<string, { labels: Record<string, string>; value: number }>();

  constructor(
    readonly name: string,
    readonly type: "counter" | "gauge",
    readonly help: string,
  ) {}

  add(pairs: Record<string, string>, by = 1): void {
    const key = JSON.stringify(pairs);
    const entry = this.values.get(key) ?? { labels: pairs, value: 0 };
    entry.value += by;
    this.values.set(key, entry);
  }

  render(keep: (labels: Record<string, string>) => boolean = () => true): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const { labels: pairs, value } of this.values.values()) if (keep(pairs)) lines.push(`${this.name}${labels(pairs)} ${value}`);
    return lines.join("\n");
  }
}

/** The gateway's counters; one instance per gateway. */
export class GatewayMetrics {
  readonly tokenRequests = new Family("tokensmith_token_requests_total", "counter", "Token requests answered by the gateway, by connection and result (ok or an error code).");
  readonly cacheHits = new Family("tokensmith_cache_hits_total", "counter", "Token requests answered with the token already held, without waiting for the authorization server.");
  readonly waits = new Family("tokensmith_token_waits_total", "counter", "Token requests that waited for a new token (this gateway's token request or another process's).");
  /** The proxy route's counters (`/proxy/NAME/...`). */
  readonly proxy = new ProxyMetrics();
  /** New tokens stored, by state id (`status`'s `stateId`: non-secret, equal for connections that share a state). */
  private readonly refreshesByState = new Map<string, number>();
  private leaseWaits = 0;
  private leaseWaitMs = 0;
  private leaseTaken = 0;
  private leaseBusy = 0;

  /** The store wrapper's reports. */
  readonly storeObserver: StoreObserver = {
    leaseTaken: (waitedMs) => {
      this.leaseTaken++;
      this.leaseWaitMs += waitedMs;
      if (waitedMs > LEASE_WAIT_THRESHOLD_MS) this.leaseWaits++;
    },
    leaseBusy: () => void this.leaseBusy++,
    refreshed: (key) => {
      const id = stateIdOfStoreKey(key);
      if (id !== undefined) this.refreshesByState.set(id, (this.refreshesByState.get(id) ?? 0) + 1);
    },
  };

  /** What the gateway answered for one connection since it started (the dashboard's counts). */
  served(connection: string): { tokens: number; cacheHits: number; waits: number; errors: number; proxy: ProxyServed } {
    const sum = (family: Family, keep: (labels: Record<string, string>) => boolean = () => true) => {
      let total = 0;
      for (const entry of family.values.values()) if (entry.labels.connection === connection && keep(entry.labels)) total += entry.value;
      return total;
    };
    return {
      tokens: sum(this.tokenRequests, (l) => l.result === "ok"),
      cacheHits: sum(this.cacheHits),
      waits: sum(this.waits),
      errors: sum(this.tokenRequests, (l) => l.result !== "ok"),
      proxy: this.proxy.served(connection),
    };
  }

  /** New tokens this gateway obtained and stored for the token state of id `stateId`. */
  refreshesOf(stateId: string): number {
    return this.refreshesByState.get(stateId) ?? 0;
  }

  /**
   * The exposition text for `statuses` (refreshes are counted per token state, by the status's
   * `stateId`, since connections may share one); counters of other connections are left out,
   * so a limited key sees only its own.
   */
  render(statuses: ConnectionStatus[]): string {
    const visible = new Set(statuses.map((status) => status.name));
    const refreshes = new Family("tokensmith_refreshes_total", "counter", "New tokens this gateway obtained for the connection's token state (including refresh-ahead and forced refreshes).");
    const stateRequests = new Family("tokensmith_connection_token_requests", "gauge", "Token requests made for the connection's token state by every process sharing the store.");
    const expiresIn = new Family("tokensmith_connection_expires_in_seconds", "gauge", "Seconds until the connection's access token expires (absent when it has none or it never expires).");
    const state = new Family("tokensmith_connection_state", "gauge", "1 for the connection's current raw token state (see tokensmith_connection_health).");
    const health = new Family("tokensmith_connection_health", "gauge", "1 for the connection's current health (SPEC §3 status), 0 for the others.");
    for (const status of statuses) {
      const connection = { connection: status.name };
      refreshes.add(connection, status.stateId ? this.refreshesOf(status.stateId) : 0);
      stateRequests.add(connection, status.tokenRequests);
      if (status.expiresIn !== null) expiresIn.add(connection, status.expiresIn);
      state.add({ ...connection, state: status.error ? "error" : status.state }, 1);
      for (const name of HEALTH_NAMES) health.add({ ...connection, health: name }, status.health.status === name ? 1 : 0);
    }
    const store = [
      counter("tokensmith_lock_acquisitions_total", "Store update locks (leases) this gateway took.", this.leaseTaken),
      counter("tokensmith_lock_waits_total", `Store update locks that took longer than ${LEASE_WAIT_THRESHOLD_MS} ms to get: another holder had them.`, this.leaseWaits),
      counter("tokensmith_lock_wait_seconds_total", "Total time spent waiting for store update locks.", this.leaseWaitMs / MS_PER_S),
      counter("tokensmith_lock_busy_total", "Refresh-ahead attempts that found the update lock held elsewhere and kept the current token.", this.leaseBusy),
    ];
    const counters = [this.tokenRequests, this.cacheHits, this.waits].map((f) => f.render((labels) => visible.has(labels.connection)));
    const proxied = this.proxy.render((name) => visible.has(name));
    return [...counters, ...[refreshes, stateRequests, expiresIn, state, health].map((f) => f.render()), ...store, proxied].join("\n") + "\n";
  }
}

function counter(name: string, help: string, value: number): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} counter\n${name} ${value}`;
}

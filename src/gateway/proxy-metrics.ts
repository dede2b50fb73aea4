import { labels } from "./prometheus.js";

/**
 * The data gateway's counters (SPEC §5 `/metrics`, issue 14): proxied requests by connection
 * and status class (`error` when the gateway answered itself: no token, API unreachable),
 * body bytes each way, the API's latency to its response head, and 401s recovered by one
 * refresh and a replay.
 */

/** Upper bounds (seconds) of the upstream latency histogram's buckets. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Status class names by the status's first digit, made once. */
const CLASSES = ["0xx", "1xx", "2xx", "3xx", "4xx", "5xx", "6xx", "7xx", "8xx", "9xx"];

/** What the dashboard shows per connection. */
export interface ProxyServed {
  requests: number;
  /** Answers of 5xx, and requests the gateway answered itself with an error. */
  errors: number;
  bytesUp: number;
  bytesDown: number;
  recoveries: number;
}

/** One connection's counters. */
export class ProxyRow {
  readonly byClass = new Map<string, number>();
  bytesUp = 0;
  bytesDown = 0;
  recoveries = 0;
  readonly buckets = new Array<number>(LATENCY_BUCKETS.length).fill(0);
  latencySum = 0;
  latencyCount = 0;

  answered(status: number): void {
    this.count(CLASSES[Math.floor(status / 100)] ?? `${Math.floor(status / 100)}xx`);
  }

  failed(): void {
    this.count("error");
  }

  uploaded(bytes: number): void {
    this.bytesUp += bytes;
  }

  downloaded(bytes: number): void {
    this.bytesDown += bytes;
  }

  recovered(): void {
    this.recoveries++;
  }

  latency(seconds: number): void {
    this.latencySum += seconds;
    this.latencyCount++;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= LATENCY_BUCKETS[i]) {
        this.buckets[i]++;
        return;
      }
    }
  }

  private count(key: string): void {
    this.byClass.set(key, (this.byClass.get(key) ?? 0) + 1);
  }
}

/** Every connection's proxy counters; one instance per gateway (or `tokensmith proxy`). */
export class ProxyMetrics {
  private readonly rows = new Map<string, ProxyRow>();

  row(connection: string): ProxyRow {
    let row = this.rows.get(connection);
    if (!row) this.rows.set(connection, (row = new ProxyRow()));
    return row;
  }

  served(connection: string): ProxyServed {
    const row = this.rows.get(connection);
    if (!row) return { requests: 0, errors: 0, bytesUp: 0, bytesDown: 0, recoveries: 0 };
    let requests = 0;
    for (const n of row.byClass.values()) requests += n;
    return { requests, errors: (row.byClass.get("5xx") ?? 0) + (row.byClass.get("error") ?? 0), bytesUp: row.bytesUp, bytesDown: row.bytesDown, recoveries: row.recoveries };
  }

  /** Prometheus text for the connections `visible` lets through (a limited key sees its own). */
  render(visible: (connection: string) => boolean): string {
    const rows = [...this.rows].filter(([name]) => visible(name));
    const out: string[] = [];
    const family = (name: string, type: string, help: string, lines: (name: string, row: ProxyRow) => string[]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [connection, row] of rows) out.push(...lines(connection, row));
    };
    family("tokensmith_proxy_requests_total", "counter", "Requests through the proxy route, by connection and status class of the answer (error: the gateway answered itself).", (connection, row) =>
      [...row.byClass].map(([cls, n]) => `tokensmith_proxy_requests_total${labels({ connection, class: cls })} ${n}`),
    );
    family("tokensmith_proxy_bytes_total", "counter", "Body bytes through the proxy: upload (to the API) and download (to the client).", (connection, row) => [
      `tokensmith_proxy_bytes_total${labels({ connection, direction: "upload" })} ${row.bytesUp}`,
      `tokensmith_proxy_bytes_total${labels({ connection, direction: "download" })} ${row.bytesDown}`,
    ]);
    family("tokensmith_proxy_upstream_latency_seconds", "histogram", "Time from sending a request to the API to its response head.", (connection, row) => {
      const lines: string[] = [];
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((le, i) => {
        cumulative += row.buckets[i];
        lines.push(`tokensmith_proxy_upstream_latency_seconds_bucket${labels({ connection, le: String(le) })} ${cumulative}`);
      });
      lines.push(`tokensmith_proxy_upstream_latency_seconds_bucket${labels({ connection, le: "+Inf" })} ${row.latencyCount}`);
      lines.push(`tokensmith_proxy_upstream_latency_seconds_sum${labels({ connection })} ${row.latencySum}`);
      lines.push(`tokensmith_proxy_upstream_latency_seconds_count${labels({ connection })} ${row.latencyCount}`);
      return lines;
    });
    family("tokensmith_proxy_401_recoveries_total", "counter", "API 401s the proxy recovered from: the refused token invalidated, one refresh, the request replayed.", (connection, row) => [
      `tokensmith_proxy_401_recoveries_total${labels({ connection })} ${row.recoveries}`,
    ]);
    return out.join("\n");
  }
}

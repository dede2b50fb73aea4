/** One figure of `npm run bench`: a value, and the baseline measured in the same run. */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  /** The same measure for the baseline, so the figure reads as a ratio. */
  baseline?: number;
  baselineName?: string;
  /** The goal in words, e.g. ">= 0.95 of baseline". */
  goal?: string;
  /** true: more is better (throughput); false: less is better (latency, requests). */
  higherIsBetter?: boolean;
}

export type Report = (row: BenchRow) => void;

/** Median of a list of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function formatRow(row: BenchRow): string {
  const value = `${fmt(row.value)} ${row.unit}`;
  if (row.baseline === undefined) return `${row.name}: ${value}${row.goal ? `  (goal ${row.goal})` : ""}`;
  const ratio = row.baseline === 0 ? NaN : row.value / row.baseline;
  return `${row.name}: ${value} vs ${fmt(row.baseline)} ${row.unit} (${row.baselineName ?? "baseline"}) = ${ratio.toFixed(3)}x${row.goal ? `  (goal ${row.goal})` : ""}`;
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString("en-US");
  return Number(n.toPrecision(4)).toString();
}

/**
 * `measure` of each sender, median of `rounds` alternating rounds after a warm-up of both; who
 * goes first alternates too, so a machine warming up or cooling down favours neither.
 */
export async function alternating(
  plain: () => Promise<unknown>,
  ours: () => Promise<unknown>,
  measure: (send: () => Promise<unknown>) => Promise<number>,
  rounds: number,
): Promise<{ plain: number; ours: number }> {
  await measure(plain);
  await measure(ours);
  const plainRates: number[] = [];
  const ourRates: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const pair = round % 2 === 0 ? [plain, ours] : [ours, plain];
    for (const send of pair) (send === plain ? plainRates : ourRates).push(await measure(send));
  }
  return { plain: median(plainRates), ours: median(ourRates) };
}

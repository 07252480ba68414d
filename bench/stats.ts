// Latency summaries: nearest-rank percentiles over every sample (no sampling, no averaging of percentiles).

export interface Summary {
  n: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export const EMPTY: Summary = { n: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };

/** The nearest-rank percentile of ascending `sorted` (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return EMPTY;
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((s, v) => s + v, 0);
  return {
    n: sorted.length,
    min: round(sorted[0]!),
    mean: round(sum / sorted.length),
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1]!),
  };
}

/** Milliseconds to two decimals: finer than the clocks behind the figures deserve. */
export const round = (ms: number) => Math.round(ms * 100) / 100;

export interface Bin {
  from: number;
  to: number;
  count: number;
}

/** Equal-width bins from 0 to `limit`; samples above it land in the last bin (its `to` is then the max). */
export function histogram(values: readonly number[], bins: number, limit: number): Bin[] {
  const width = limit / bins;
  const out: Bin[] = Array.from({ length: bins }, (_, i) => ({ from: i * width, to: (i + 1) * width, count: 0 }));
  for (const v of values) out[Math.min(bins - 1, Math.max(0, Math.floor(v / width)))]!.count++;
  const max = values.reduce((m, v) => Math.max(m, v), 0);
  if (max > limit) out[bins - 1]!.to = max;
  return out;
}

/** Points of the empirical CDF (value, fraction at or below it), thinned to at most `points`. */
export function cdf(values: readonly number[], points = 200): { value: number; fraction: number }[] {
  if (values.length === 0) return [];
  const sorted = [...values].sort((a, b) => a - b);
  const step = Math.max(1, Math.floor(sorted.length / points));
  const out: { value: number; fraction: number }[] = [];
  for (let i = 0; i < sorted.length; i += step) out.push({ value: sorted[i]!, fraction: (i + 1) / sorted.length });
  out.push({ value: sorted[sorted.length - 1]!, fraction: 1 });
  return out;
}

/** Counts of each distinct label, largest first: error tallies. */
export function tally(labels: readonly string[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]));
}

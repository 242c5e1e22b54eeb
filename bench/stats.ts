/** Summary statistics over raw samples: exact percentiles, no histogram buckets. */
export interface Percentiles {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Nearest-rank percentile of sorted samples; 0 when there are none. */
function rank(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function percentiles(samples: number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    count: sorted.length,
    mean: round(sorted.length ? sum / sorted.length : 0),
    p50: round(rank(sorted, 50)),
    p95: round(rank(sorted, 95)),
    p99: round(rank(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? 0),
  };
}

export { round };

/** a / b rounded, or null when b is zero (a ratio that means nothing is better left out). */
export const ratio = (a: number, b: number) => (b > 0 ? round(a / b, 2) : null);

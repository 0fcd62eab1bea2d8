// Latency statistics over timed runs.

export interface LatencyStats {
  meanMs: number;
  medianMs: number;
  /** 90th percentile, linear interpolation between closest ranks (numpy's default). */
  p90Ms: number;
  minMs: number;
  maxMs: number;
}

/** Percentile q in [0,100] with linear interpolation (numpy.percentile, method="linear"). */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

export function latencyStats(runsMs: readonly number[]): LatencyStats {
  return {
    meanMs: mean(runsMs),
    medianMs: percentile(runsMs, 50),
    p90Ms: percentile(runsMs, 90),
    minMs: runsMs.length ? Math.min(...runsMs) : Number.NaN,
    maxMs: runsMs.length ? Math.max(...runsMs) : Number.NaN,
  };
}

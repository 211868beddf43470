/**
 * The summary figures the benchmarks print.
 */

/** The value at percentile `p` (0-100) of numbers sorted ascending. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const median = (xs: number[]): number => percentile([...xs].sort((a, b) => a - b), 50);

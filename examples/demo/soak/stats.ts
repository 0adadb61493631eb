// Small numeric helpers for the report.

/** The `q` quantile (0–1) of `values`, nearest-rank; 0 for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Rounds to one decimal. */
export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/** Bytes to MB (10^6), one decimal. */
export function mb(bytes: number): number {
  return round1(bytes / 1e6);
}

/**
 * A metric's value, or why it has none. Degenerate inputs (constant predictions, one class, no rows)
 * give `value: null` and a reason people can read, never NaN.
 */
export interface MetricValue {
  value: number | null;
  /** Set when value is null. */
  reason?: string;
  /** Bootstrap percentile confidence interval, when one was computed. */
  ci?: [number, number];
}

export function defined(value: number): MetricValue {
  return { value };
}

export function undefinedBecause(reason: string): MetricValue {
  return { value: null, reason };
}

/** Paired observations with a weight (count) per pair; a plain sample has every weight 1. */
export interface WeightedPairs {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Omitted: every pair counts once. */
  w?: ArrayLike<number>;
}

export function weightOf(pairs: WeightedPairs, i: number): number {
  return pairs.w ? (pairs.w[i] as number) : 1;
}

export function totalWeight(pairs: WeightedPairs): number {
  if (!pairs.w) return pairs.x.length;
  let n = 0;
  for (let i = 0; i < pairs.w.length; i++) n += pairs.w[i] as number;
  return n;
}

import { defined, totalWeight, undefinedBecause, weightOf, type MetricValue, type WeightedPairs } from "./types.js";

/** Counts of (gold, prediction) pairs: rows are gold labels, columns predicted labels (as scikit-learn). */
export interface ConfusionMatrix<L extends string | number = string | number> {
  labels: L[];
  counts: number[][];
}

export function confusionMatrix<L extends string | number>(
  pred: ArrayLike<L>,
  gold: ArrayLike<L>,
  labels: L[],
  weights?: ArrayLike<number>,
): ConfusionMatrix<L> {
  const position = new Map<L, number>(labels.map((label, i) => [label, i]));
  const counts = labels.map(() => labels.map(() => 0));
  for (let i = 0; i < pred.length; i++) {
    const row = position.get(gold[i] as L);
    const col = position.get(pred[i] as L);
    if (row === undefined || col === undefined) {
      throw new Error(`label ${String(row === undefined ? gold[i] : pred[i])} is not among ${JSON.stringify(labels)}`);
    }
    (counts[row] as number[])[col] = ((counts[row] as number[])[col] as number) + (weights ? (weights[i] as number) : 1);
  }
  return { labels, counts };
}

export type KappaWeights = "none" | "linear" | "quadratic";

/**
 * Cohen's kappa from a confusion matrix; weighted kappa penalises a disagreement by the distance
 * between the labels' positions (their values when numeric, else their order in `labels`).
 */
export function cohenKappa(matrix: ConfusionMatrix, weights: KappaWeights = "none"): MetricValue {
  const k = matrix.labels.length;
  const rows = matrix.counts.map((row) => row.reduce((a, b) => a + b, 0));
  const cols = matrix.labels.map((_, j) => matrix.counts.reduce((a, row) => a + (row[j] as number), 0));
  const n = rows.reduce((a, b) => a + b, 0);
  if (n === 0) return undefinedBecause("no rated items");
  const positions = matrix.labels.map((label, i) => (typeof label === "number" ? label : i));
  const span = Math.max(...positions) - Math.min(...positions);
  const penalty = (i: number, j: number): number => {
    if (i === j) return 0;
    if (weights === "none" || span === 0) return 1;
    const d = Math.abs((positions[i] as number) - (positions[j] as number)) / span;
    return weights === "linear" ? d : d * d;
  };
  let observed = 0, expected = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const p = penalty(i, j);
      observed += (p * ((matrix.counts[i] as number[])[j] as number)) / n;
      expected += (p * (rows[i] as number) * (cols[j] as number)) / (n * n);
    }
  }
  if (expected === 0) {
    const used = matrix.labels.filter((_, i) => (rows[i] as number) > 0 || (cols[i] as number) > 0);
    return undefinedBecause(`both sides give the same single label (${used.map(String).join(", ")}): chance agreement is 1`);
  }
  return defined(1 - observed / expected);
}

/** Share of pairs whose values differ by at most `tolerance` (0: exact agreement). */
export function agreementWithin(pairs: WeightedPairs, tolerance = 0): MetricValue {
  const n = totalWeight(pairs);
  if (n === 0) return undefinedBecause("no pairs");
  let hits = 0;
  for (let i = 0; i < pairs.x.length; i++) {
    if (Math.abs((pairs.x[i] as number) - (pairs.y[i] as number)) <= tolerance + 1e-9) hits += weightOf(pairs, i);
  }
  return defined(hits / n);
}

export function meanAbsoluteError(pairs: WeightedPairs): MetricValue {
  const n = totalWeight(pairs);
  if (n === 0) return undefinedBecause("no pairs");
  let sum = 0;
  for (let i = 0; i < pairs.x.length; i++) sum += weightOf(pairs, i) * Math.abs((pairs.x[i] as number) - (pairs.y[i] as number));
  return defined(sum / n);
}

/**
 * Labels for categorical score metrics: the observed values, and when all are whole numbers every
 * whole number between the smallest and the largest, so weighted kappa sees the scale's real distances.
 */
export function scoreLabels(values: Iterable<number>): number[] {
  const seen = [...new Set(values)].sort((a, b) => a - b);
  if (seen.length === 0 || !seen.every(Number.isInteger)) return seen;
  const labels: number[] = [];
  for (let v = seen[0] as number; v <= (seen[seen.length - 1] as number); v++) labels.push(v);
  return labels;
}

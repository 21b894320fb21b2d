import { cellsOf, percentileInterval, resampleCounts } from "./bootstrap.js";
import { scoreAgreement, type IntervalOptions, type PairwiseMetricName, type ScoreMetricName } from "./metrics.js";
import { pairwiseAgreement, verdictMatrix, type Verdict } from "./pairwise.js";
import { defined, undefinedBecause, type MetricValue } from "./types.js";

export type Headline = { kind: "score"; metric: ScoreMetricName } | { kind: "pairwise"; metric: PairwiseMetricName };

export interface JudgeComparisonRow {
  judge: string;
  /** The headline metric on the rows every judge predicted, with its interval. */
  value: MetricValue;
  /** This judge minus the reference judge (the first), from the same resamples; absent for the reference. */
  difference?: MetricValue & { pValue: number | null };
}

export interface JudgeComparison {
  metric: string;
  /** Rows where every judge has a prediction and gold exists. */
  rows: number;
  reference: string;
  table: JudgeComparisonRow[];
}

/** The headline metric for one judge over (optionally weighted) predictions. */
export function headlineValue(headline: Headline, pred: ArrayLike<number | Verdict>, gold: ArrayLike<number | Verdict>, w?: ArrayLike<number>): MetricValue {
  if (headline.kind === "score") {
    return scoreAgreement({ x: pred as ArrayLike<number>, y: gold as ArrayLike<number>, w })[headline.metric];
  }
  return pairwiseAgreement(verdictMatrix(pred as ArrayLike<Verdict>, gold as ArrayLike<Verdict>, w))[headline.metric];
}

/**
 * Paired bootstrap: the same resampled rows score every judge, so the interval of a difference
 * reflects only how the judges differ on those rows. The two-sided p-value is twice the share of
 * replicates on the far side of zero.
 */
export function compareJudges(
  names: string[],
  preds: ReadonlyArray<ArrayLike<number | Verdict>>,
  gold: ArrayLike<number | Verdict>,
  headline: Headline,
  options: IntervalOptions,
): JudgeComparison {
  const rows = gold.length;
  const { cellOf, firstRow } = cellsOf(rows, (i) => preds.map((p) => String(p[i])).join("\u0000") + "\u0000" + String(gold[i]));
  const cellGold = firstRow.map((i) => gold[i] as number | Verdict);
  const cellPreds = preds.map((p) => firstRow.map((i) => p[i] as number | Verdict));
  const counts = new Float64Array(firstRow.length);
  for (const c of cellOf) counts[c] = (counts[c] as number) + 1;

  const values = cellPreds.map((p) => headlineValue(headline, p, cellGold, counts));
  const replicates = names.map(() => [] as number[]);
  if (options.iterations > 0 && rows >= 2) {
    resampleCounts(cellOf, firstRow.length, options, (w) => {
      cellPreds.forEach((p, j) => (replicates[j] as number[]).push(headlineValue(headline, p, cellGold, w).value ?? Number.NaN));
    });
  }
  const table = names.map((judge, j): JudgeComparisonRow => {
    const value = { ...(values[j] as MetricValue) };
    const ci = value.value === null ? null : percentileInterval(replicates[j] as number[], options.confidence);
    if (ci) value.ci = ci;
    if (j === 0) return { judge, value };
    return { judge, value, difference: difference(values[0] as MetricValue, value, replicates[0] as number[], replicates[j] as number[], options) };
  });
  return { metric: headline.metric, rows, reference: names[0] ?? "", table };
}

function difference(reference: MetricValue, other: MetricValue, refReps: number[], otherReps: number[], options: IntervalOptions): MetricValue & { pValue: number | null } {
  if (reference.value === null || other.value === null) {
    return { ...undefinedBecause(reference.reason ?? other.reason ?? "undefined"), pValue: null };
  }
  const diffs = otherReps.map((v, b) => v - (refReps[b] as number)).filter(Number.isFinite);
  const result: MetricValue & { pValue: number | null } = { ...defined(other.value - reference.value), pValue: null };
  if (diffs.length === 0) return result;
  const ci = percentileInterval(diffs, options.confidence);
  if (ci) result.ci = ci;
  const atOrBelow = diffs.filter((d) => d <= 0).length;
  const atOrAbove = diffs.filter((d) => d >= 0).length;
  result.pValue = Math.min(1, (2 * Math.min(atOrBelow, atOrAbove)) / diffs.length);
  return result;
}

import { agreementWithin, cohenKappa, confusionMatrix, meanAbsoluteError, scoreLabels, type ConfusionMatrix } from "./agreement.js";
import { cellsOf, percentileInterval, resampleCounts, type BootstrapOptions } from "./bootstrap.js";
import { denseRanks, kendallTauB, pearson, spearman, type Sides } from "./correlation.js";
import { pairwiseAgreement, verdictMatrix, type PairwiseAgreement, type Verdict } from "./pairwise.js";
import { undefinedBecause, type MetricValue, type WeightedPairs } from "./types.js";

/** Categorical metrics need a small scale; more distinct (rounded) values than this and they are skipped. */
export const MAX_CATEGORIES = 101;
const SIDES: Sides = ["the judge's scores", "the gold scores"];

export interface ScoreAgreement {
  n: number;
  pearson: MetricValue;
  spearman: MetricValue;
  kendallTau: MetricValue;
  mae: MetricValue;
  /** Categorical metrics below compare both sides rounded to the nearest whole number. */
  exactAgreement: MetricValue;
  withinOne: MetricValue;
  kappa: MetricValue;
  quadraticKappa: MetricValue;
  /** Rows gold, columns judge; absent when the scores are not on a small scale. */
  confusion?: ConfusionMatrix<number>;
}

export const SCORE_METRICS = ["pearson", "spearman", "kendallTau", "mae", "exactAgreement", "withinOne", "kappa", "quadraticKappa"] as const;
export type ScoreMetricName = (typeof SCORE_METRICS)[number];

/** Every score metric of judge (x) against gold (y); weights count repeated pairs. */
export function scoreAgreement(pairs: WeightedPairs, sides: Sides = SIDES): ScoreAgreement {
  const n = pairs.w ? Array.from(pairs.w).reduce((a, b) => a + b, 0) : pairs.x.length;
  const roundedX = Array.from(pairs.x, Math.round);
  const roundedY = Array.from(pairs.y, Math.round);
  const rounded = { x: roundedX, y: roundedY, w: pairs.w };
  const labels = scoreLabels([...roundedX, ...roundedY]);
  const categorical = labels.length <= MAX_CATEGORIES;
  const tooMany = undefinedBecause(`${labels.length} distinct rounded values: not a small rating scale`);
  const confusion = categorical ? confusionMatrix(roundedX, roundedY, labels, pairs.w) : undefined;
  return {
    n,
    pearson: pearson(pairs, sides),
    spearman: spearman(pairs, sides),
    kendallTau: kendallTauB(pairs, sides),
    mae: meanAbsoluteError(pairs),
    exactAgreement: n === 0 ? undefinedBecause("no pairs") : agreementWithin(rounded, 0),
    withinOne: n === 0 ? undefinedBecause("no pairs") : agreementWithin(rounded, 1),
    kappa: confusion ? cohenKappa(confusion) : tooMany,
    quadraticKappa: confusion ? cohenKappa(confusion, "quadratic") : tooMany,
    ...(confusion ? { confusion } : {}),
  };
}

export interface IntervalOptions extends BootstrapOptions {
  confidence: number;
}

/** Score metrics of judge against gold, each with a bootstrap percentile interval. */
export function scoreMetrics(pred: ArrayLike<number>, gold: ArrayLike<number>, options: IntervalOptions): ScoreAgreement {
  const rx = denseRanks(pred);
  const ry = denseRanks(gold);
  const width = ry.reduce((m, r) => Math.max(m, r), 0) + 1;
  const { cellOf, firstRow } = cellsOf(pred.length, (i) => (rx[i] as number) * width + (ry[i] as number));
  const x = Float64Array.from(firstRow, (i) => pred[i] as number);
  const y = Float64Array.from(firstRow, (i) => gold[i] as number);
  const counts = new Float64Array(firstRow.length);
  for (const c of cellOf) counts[c] = (counts[c] as number) + 1;
  const point = scoreAgreement({ x, y, w: counts });
  attachIntervals(point, SCORE_METRICS, cellOf, firstRow.length, options, (w) => scoreAgreement({ x, y, w }));
  return point;
}

export const PAIRWISE_METRICS = ["accuracyWithTies", "accuracyWithoutTies", "accuracyDecisiveGold", "macroPrecision", "macroRecall", "macroF1", "kappa"] as const;
export type PairwiseMetricName = (typeof PAIRWISE_METRICS)[number];

const VERDICT_INDEX = { A: 0, B: 1, tie: 2 } as const;
const VERDICT_OF: Verdict[] = ["A", "B", "tie"];

/** Pairwise metrics of judge against gold, the headline ones with a bootstrap percentile interval. */
export function pairwiseMetrics(pred: ArrayLike<Verdict>, gold: ArrayLike<Verdict>, options: IntervalOptions): PairwiseAgreement {
  const cellOf = new Uint32Array(pred.length);
  for (let i = 0; i < pred.length; i++) cellOf[i] = VERDICT_INDEX[gold[i] as Verdict] * 3 + VERDICT_INDEX[pred[i] as Verdict];
  const cellPred = Array.from({ length: 9 }, (_, c) => VERDICT_OF[c % 3] as Verdict);
  const cellGold = Array.from({ length: 9 }, (_, c) => VERDICT_OF[Math.floor(c / 3)] as Verdict);
  const point = pairwiseAgreement(verdictMatrix(pred, gold));
  attachIntervals(point, PAIRWISE_METRICS, cellOf, 9, options, (w) => pairwiseAgreement(verdictMatrix(cellPred, cellGold, w)));
  return point;
}

/** Resamples rows by cell, recomputes the metrics over the cell table and sets each named metric's `ci`. */
function attachIntervals<T extends Record<K, MetricValue>, K extends string>(
  point: T,
  names: readonly K[],
  cellOf: Uint32Array,
  cells: number,
  options: IntervalOptions,
  compute: (weights: Float64Array) => T,
): void {
  if (options.iterations <= 0 || cellOf.length < 2) return;
  const replicates = new Map<K, number[]>(names.map((name) => [name, []]));
  resampleCounts(cellOf, cells, options, (counts) => {
    const sample = compute(counts);
    for (const name of names) (replicates.get(name) as number[]).push(sample[name].value ?? Number.NaN);
  });
  for (const name of names) {
    if (point[name].value === null) continue;
    const ci = percentileInterval(replicates.get(name) as number[], options.confidence);
    if (ci) point[name].ci = ci;
  }
}

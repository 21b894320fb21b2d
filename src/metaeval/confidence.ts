/**
 * What a judge's own probabilities are worth (judgments with score_distribution / winner_distribution):
 * the correlation of `score_expected` with gold next to that of the decoded score, calibration
 * (expected calibration error over ten equal-width bins, and the reliability diagram's points), and
 * the accuracy a judge keeps when it abstains below a confidence threshold (coverage vs accuracy).
 */
import { kendallTauB, pearson, spearman } from "./correlation.js";
import type { JudgmentRow, Kind } from "./rows.js";
import type { MetricValue } from "./types.js";

export interface ReliabilityBin {
  lo: number;
  hi: number;
  n: number;
  /** Mean confidence of the rows in the bin. */
  confidence: number;
  /** Share of them the judge got right. */
  accuracy: number;
}

export interface CoveragePoint {
  /** The judge answers only where its confidence is at least this. */
  threshold: number;
  n: number;
  coverage: number;
  accuracy: number | null;
}

export interface ConfidenceReport {
  /** Evaluated rows with a distribution. */
  rows: number;
  /** Absolute: score_expected against gold, beside the decoded score on the same rows. */
  expected?: { pearson: MetricValue; spearman: MetricValue; kendallTau: MetricValue; scorePearson: MetricValue };
  /** Confidence = the probability given to the decoded verdict; right = it equals gold (rounded for scores). */
  ece: MetricValue;
  meanConfidence: number;
  accuracy: number;
  bins: ReliabilityBin[];
  coverage: CoveragePoint[];
}

const BINS = 10;
const THRESHOLDS = [0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];

export function confidenceReport(kind: Kind, usable: readonly JudgmentRow[]): ConfidenceReport | undefined {
  const rows = usable.filter((r) => r.confidence !== undefined);
  if (rows.length === 0) return undefined;
  const right = (r: JudgmentRow) => (kind === "score" ? r.pred === Math.round(r.gold as number) : r.pred === r.gold);
  const conf = rows.map((r) => r.confidence!);
  const correct = rows.map(right);
  const bins: ReliabilityBin[] = [];
  let ece = 0;
  for (let b = 0; b < BINS; b++) {
    const lo = b / BINS;
    const hi = (b + 1) / BINS;
    const inBin = rows.map((_, i) => i).filter((i) => conf[i]! >= lo && (conf[i]! < hi || (b === BINS - 1 && conf[i]! <= hi)));
    if (inBin.length === 0) continue;
    const confidence = inBin.reduce((s, i) => s + conf[i]!, 0) / inBin.length;
    const accuracy = inBin.filter((i) => correct[i]).length / inBin.length;
    ece += (inBin.length / rows.length) * Math.abs(accuracy - confidence);
    bins.push({ lo, hi, n: inBin.length, confidence, accuracy });
  }
  const coverage = THRESHOLDS.map((threshold): CoveragePoint => {
    const kept = rows.map((_, i) => i).filter((i) => conf[i]! >= threshold);
    return { threshold, n: kept.length, coverage: kept.length / rows.length, accuracy: kept.length === 0 ? null : kept.filter((i) => correct[i]).length / kept.length };
  });
  const report: ConfidenceReport = {
    rows: rows.length,
    ece: { value: ece },
    meanConfidence: conf.reduce((a, b) => a + b, 0) / rows.length,
    accuracy: correct.filter(Boolean).length / rows.length,
    bins,
    coverage,
  };
  if (kind === "score") {
    const withExpected = rows.filter((r) => r.expected !== undefined);
    if (withExpected.length > 0) {
      const gold = withExpected.map((r) => r.gold as number);
      const expected = { x: withExpected.map((r) => r.expected!), y: gold };
      const sides = ["the judge's expected scores", "the gold scores"] as const;
      report.expected = {
        pearson: pearson(expected, sides),
        spearman: spearman(expected, sides),
        kendallTau: kendallTauB(expected, sides),
        scorePearson: pearson({ x: withExpected.map((r) => r.pred as number), y: gold }, ["the judge's scores", "the gold scores"]),
      };
    }
  }
  return report;
}

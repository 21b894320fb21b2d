import { scoreLabels } from "./agreement.js";
import {
  pairwiseLengthBias, positionConsistency, scaleUse, scoreLengthBias,
  type PairwiseLengthBias, type PositionConsistency, type ScaleUse, type ScoreLengthBias,
} from "./bias.js";
import { pairwiseMetrics, scoreAgreement, scoreMetrics, type IntervalOptions, type ScoreAgreement } from "./metrics.js";
import { pairwiseAgreement, verdictMatrix, type PairwiseAgreement, type Verdict } from "./pairwise.js";
import { fleissKappa, indexPairs } from "./raters.js";
import { confidenceReport, type ConfidenceReport } from "./confidence.js";
import type { Reject } from "../records/types.js";
import type { JudgmentRow, Kind, Label } from "./rows.js";
import type { MetricValue } from "./types.js";

export type Metrics = ScoreAgreement | PairwiseAgreement;

/** What happened to every row: nothing is dropped without being counted here. */
export interface Coverage {
  rows: number;
  /** Rows with both a prediction and gold: the metrics are over these. */
  evaluated: number;
  failedPrediction: number;
  missingPrediction: number;
  invalidPrediction: number;
  missingGold: number;
  invalidGold: number;
  /** Several raters, majority gold, and the top labels tied. */
  noMajorityGold: number;
  /** Rows the reader could not parse at all (bad JSON, wrong column count); not in `rows`. */
  unreadableRows: number;
}

export interface Problem {
  line: number;
  field: "prediction" | "gold" | "row";
  problem: string;
  note: string;
}

/** Agreement between two label sources (two raters, or the judge and one rater) on the rows both labelled. */
export interface PairAgreement {
  a: string;
  b: string;
  n: number;
  metrics: Record<string, MetricValue>;
}

export interface Disagreement {
  index: number;
  line: number;
  id?: string;
  group?: string;
  pred: Label;
  gold: Label;
  ratings: Array<Label | null>;
  /** |judge - gold| for scores; 2 for opposite winners, 1 for a tie against a winner. */
  gap: number;
  /** A few fields of the record (instruction, response, feedback), cut short, filled in by the caller. */
  excerpt?: Record<string, string>;
}

export interface BiasReport {
  position?: PositionConsistency;
  /** Pairwise: how often each side picks A, among its decisive verdicts. */
  firstPosition?: { judgeA: MetricValue; goldA: MetricValue };
  length?: ScoreLengthBias | PairwiseLengthBias;
  scale?: { scale: number[]; judge: ScaleUse; gold: ScaleUse };
}

export interface GroupReport {
  group: string;
  coverage: Coverage;
  metrics: Metrics;
}

export interface JudgeReport {
  name: string;
  file: string;
  coverage: Coverage;
  metrics: Metrics;
  groups?: GroupReport[];
  /** Judge against the aggregated gold and against each rater (several raters only). */
  vsRaters?: PairAgreement[];
  bias: BiasReport;
  /** Judgments that carry judge.cost_usd (critic judge --price): total and mean cost per judgment. */
  cost?: { judgments: number; totalUsd: number; perJudgmentUsd: number };
  /** Judgments with score/winner distributions: expected-score correlation, calibration, coverage vs accuracy. */
  confidence?: ConfidenceReport;
  /** Label counts over the evaluated rows, for the distribution chart. */
  distribution: { judge: Array<{ label: string; count: number }>; gold: Array<{ label: string; count: number }> };
  disagreements: Disagreement[];
  /** The first rows (up to 20) that could not be evaluated, with the reason. */
  problems: Problem[];
}

export interface RaterReport {
  names: string[];
  pairs: PairAgreement[];
  fleiss: MetricValue & { items: number; raters: number };
  /** How gold was formed from the raters. */
  aggregate: "mean" | "majority";
}

export interface EvaluateOptions {
  kind: Kind;
  bootstrap: IntervalOptions;
  top: number;
  /** Every point of the rating scale, for scale use; inferred from the data when absent. */
  scale?: number[];
}

export function coverageOf(rows: readonly JudgmentRow[]): Coverage {
  const c: Coverage = {
    rows: rows.length, evaluated: 0, failedPrediction: 0, missingPrediction: 0, invalidPrediction: 0,
    missingGold: 0, invalidGold: 0, noMajorityGold: 0, unreadableRows: 0,
  };
  for (const r of rows) {
    if (r.predProblem === "failed") c.failedPrediction++;
    else if (r.predProblem === "missing") c.missingPrediction++;
    else if (r.predProblem === "invalid") c.invalidPrediction++;
    if (r.goldProblem === "missing") c.missingGold++;
    else if (r.goldProblem === "invalid") c.invalidGold++;
    else if (r.goldProblem === "no-majority") c.noMajorityGold++;
    if (r.pred !== null && r.gold !== null) c.evaluated++;
  }
  return c;
}

export function isEvaluated(r: JudgmentRow): boolean {
  return r.pred !== null && r.gold !== null;
}

export function metricsOf(kind: Kind, rows: readonly JudgmentRow[], options: IntervalOptions): Metrics {
  const usable = rows.filter(isEvaluated);
  if (kind === "score") {
    return scoreMetrics(
      Float64Array.from(usable, (r) => r.pred as number),
      Float64Array.from(usable, (r) => r.gold as number),
      options,
    );
  }
  return pairwiseMetrics(usable.map((r) => r.pred as Verdict), usable.map((r) => r.gold as Verdict), options);
}

/** Agreement summary between two label lists over the positions where both have a label. */
export function pairAgreement(kind: Kind, a: string, b: string, left: ReadonlyArray<Label | null>, right: ReadonlyArray<Label | null>): PairAgreement {
  const x: Label[] = [], y: Label[] = [];
  for (let i = 0; i < left.length; i++) {
    if (left[i] !== null && right[i] !== null && left[i] !== undefined && right[i] !== undefined) {
      x.push(left[i] as Label);
      y.push(right[i] as Label);
    }
  }
  if (kind === "score") {
    const m = scoreAgreement({ x: x as number[], y: y as number[] }, [`the scores of ${a}`, `the scores of ${b}`]);
    return { a, b, n: x.length, metrics: { exactAgreement: m.exactAgreement, kappa: m.kappa, quadraticKappa: m.quadraticKappa, pearson: m.pearson, spearman: m.spearman } };
  }
  const m = pairwiseAgreement(verdictMatrix(x as Verdict[], y as Verdict[]));
  return { a, b, n: x.length, metrics: { accuracyWithTies: m.accuracyWithTies, kappa: m.kappa } };
}

export function raterReport(kind: Kind, names: string[], rows: readonly JudgmentRow[], aggregate: "mean" | "majority"): RaterReport {
  const column = (r: number) => rows.map((row) => row.ratings[r] ?? null);
  const pairs = indexPairs(names.length).map(([i, j]) => pairAgreement(kind, names[i] as string, names[j] as string, column(i), column(j)));
  const nominal = rows.map((row) => row.ratings.map((l) => (l === null ? null : typeof l === "number" ? Math.round(l) : l)));
  return { names, pairs, fleiss: fleissKappa(nominal), aggregate };
}

export function evaluateJudge(
  name: string,
  file: string,
  rows: readonly JudgmentRow[],
  raterNames: string[] | undefined,
  options: EvaluateOptions,
  rejects: readonly Reject[] = [],
): JudgeReport {
  const { kind } = options;
  const usable = rows.filter(isEvaluated);
  const confidence = confidenceReport(kind, usable);
  const cost = costOf(rows);
  const report: JudgeReport = {
    name,
    file,
    coverage: { ...coverageOf(rows), unreadableRows: rejects.length },
    metrics: metricsOf(kind, rows, options.bootstrap),
    bias: biasOf(kind, usable, rows, options.scale),
    ...(confidence ? { confidence } : {}),
    ...(cost ? { cost } : {}),
    distribution: { judge: countLabels(usable.map((r) => r.pred as Label)), gold: countLabels(usable.map((r) => r.gold as Label)) },
    disagreements: largestDisagreements(kind, usable, options.top),
    problems: [
      ...rejects.slice(0, 20).map((r): Problem => ({ line: r.line, field: "row", problem: "unreadable", note: r.field ? `${r.field}: ${r.reason}` : r.reason })),
      ...problemsOf(rows, 20),
    ].slice(0, 20),
  };

  const groups = new Map<string, JudgmentRow[]>();
  for (const r of rows) if (r.group !== undefined) (groups.get(r.group) ?? groups.set(r.group, []).get(r.group)!).push(r);
  if (groups.size > 0) {
    report.groups = [...groups.keys()].sort().map((group) => {
      const members = groups.get(group) as JudgmentRow[];
      return { group, coverage: coverageOf(members), metrics: metricsOf(kind, members, options.bootstrap) };
    });
  }

  if (raterNames && raterNames.length > 1) {
    const preds = rows.map((r) => r.pred);
    report.vsRaters = [
      pairAgreement(kind, name, "gold", preds, rows.map((r) => r.gold)),
      ...raterNames.map((rater, i) => pairAgreement(kind, name, rater, preds, rows.map((r) => r.ratings[i] ?? null))),
    ];
  }
  return report;
}

/** What the judgments that carry judge.cost_usd cost, in all and each. */
function costOf(rows: readonly JudgmentRow[]): JudgeReport["cost"] {
  const costed = rows.filter((r) => r.costUsd !== undefined);
  if (costed.length === 0) return undefined;
  const totalUsd = costed.reduce((sum, r) => sum + r.costUsd!, 0);
  return { judgments: costed.length, totalUsd, perJudgmentUsd: totalUsd / costed.length };
}

function biasOf(kind: Kind, usable: JudgmentRow[], all: readonly JudgmentRow[], scale?: number[]): BiasReport {
  const bias: BiasReport = {};
  const swaps = all.flatMap((r) => r.swaps ?? []);
  if (swaps.length > 0) bias.position = positionConsistency(swaps);
  if (kind === "pairwise") {
    const share = (labels: Verdict[]) => {
      const decisive = labels.filter((l) => l !== "tie");
      return decisive.length === 0 ? { value: null, reason: "no decisive verdicts" } : { value: decisive.filter((l) => l === "A").length / decisive.length };
    };
    bias.firstPosition = { judgeA: share(usable.map((r) => r.pred as Verdict)), goldA: share(usable.map((r) => r.gold as Verdict)) };
    const withLengths = usable.filter((r) => r.lengthA !== undefined && r.lengthB !== undefined);
    if (withLengths.length > 0) {
      bias.length = pairwiseLengthBias(
        withLengths.map((r) => r.lengthA as number),
        withLengths.map((r) => r.lengthB as number),
        withLengths.map((r) => r.pred as Verdict),
        withLengths.map((r) => r.gold as Verdict),
      );
    }
    return bias;
  }
  const withLength = usable.filter((r) => r.length !== undefined);
  if (withLength.length > 0) {
    bias.length = scoreLengthBias(
      withLength.map((r) => r.length as number),
      withLength.map((r) => r.pred as number),
      withLength.map((r) => r.gold as number),
    );
  }
  if (usable.length > 0) {
    const judge = usable.map((r) => r.pred as number);
    const gold = usable.map((r) => r.gold as number);
    const points = scale ?? scoreLabels([...judge, ...all.flatMap((r) => r.ratings.filter((l): l is number => typeof l === "number"))].map(Math.round));
    bias.scale = { scale: points, judge: scaleUse(judge, points), gold: scaleUse(gold, points) };
  }
  return bias;
}

function countLabels(labels: Label[]): Array<{ label: string; count: number }> {
  const counts = new Map<Label, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return [...counts]
    .sort(([a], [b]) => (typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b))))
    .map(([label, count]) => ({ label: typeof label === "number" ? formatLabel(label) : label, count }));
}

function formatLabel(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2).replace(/0+$/, "");
}

function gapOf(kind: Kind, pred: Label, gold: Label): number {
  if (kind === "score") return Math.abs((pred as number) - (gold as number));
  if (pred === gold) return 0;
  return pred === "tie" || gold === "tie" ? 1 : 2;
}

/**
 * The rows where judge and gold are furthest apart, largest gap first. Rows with the same gap are
 * taken in turn from each kind of disagreement (judge label -> gold label, and --by group), in a
 * fixed pseudo-random order within each, so ten equal gaps are not simply the file's first ten.
 * One pass, keeping at most `top` rows per kind.
 */
export function largestDisagreements(kind: Kind, usable: readonly JudgmentRow[], top: number): Disagreement[] {
  if (top <= 0) return [];
  const byKind = new Map<string, Array<Disagreement & { rank: number }>>();
  const before = (a: { gap: number; rank: number }, b: { gap: number; rank: number }) => a.gap > b.gap || (a.gap === b.gap && a.rank < b.rank);
  for (const r of usable) {
    const gap = gapOf(kind, r.pred as Label, r.gold as Label);
    if (gap < 1e-9) continue;
    const key = `${String(r.pred)}>${String(r.gold)}|${r.group ?? ""}`;
    const kept = byKind.get(key) ?? [];
    const rank = scramble(r.index);
    if (kept.length === top && !before({ gap, rank }, kept[kept.length - 1]!)) continue;
    const d: Disagreement & { rank: number } = { index: r.index, line: r.line, pred: r.pred as Label, gold: r.gold as Label, ratings: r.ratings, gap, rank };
    if (r.id !== undefined) d.id = r.id;
    if (r.group !== undefined) d.group = r.group;
    let at = kept.length;
    while (at > 0 && before(d, kept[at - 1]!)) at--;
    kept.splice(at, 0, d);
    if (kept.length > top) kept.pop();
    byKind.set(key, kept);
  }
  const queues = [...byKind.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, q]) => q);
  const out: Disagreement[] = [];
  while (out.length < top) {
    const live = queues.filter((q) => q.length > 0);
    if (live.length === 0) break;
    const gap = Math.max(...live.map((q) => q[0]!.gap));
    for (const q of live) {
      if (out.length === top || q[0]!.gap !== gap) continue;
      const { rank: _rank, ...d } = q.shift()!;
      out.push(d);
    }
  }
  return out;
}

/** A fixed pseudo-random rank for a row index (a 32-bit integer hash). */
function scramble(index: number): number {
  let x = Math.imul(index ^ 0x9e3779b9, 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

function problemsOf(rows: readonly JudgmentRow[], limit: number): Problem[] {
  const out: Problem[] = [];
  for (const r of rows) {
    if (out.length >= limit) break;
    if (r.predProblem) out.push({ line: r.line, field: "prediction", problem: r.predProblem, note: r.predNote ?? "" });
    if (r.goldProblem && out.length < limit) out.push({ line: r.line, field: "gold", problem: r.goldProblem, note: r.goldNote ?? "" });
  }
  return out;
}

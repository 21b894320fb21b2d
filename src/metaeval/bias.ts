import { spearman } from "./correlation.js";
import type { Verdict } from "./pairwise.js";
import { defined, undefinedBecause, type MetricValue } from "./types.js";

/** One swapped pairwise judgment: the verdict of each order, both in the record's own A/B labels. */
export interface SwapOutcome {
  original: "A" | "B" | null;
  swapped: "A" | "B" | null;
  consistent: boolean;
}

export interface PositionConsistency {
  /** Swapped pairs with a verdict in both orders. */
  pairs: number;
  /** Share of those whose verdict survived the swap. */
  consistency: MetricValue;
  /** Inconsistent pairs that picked whatever stood first (original A, swapped B in the record's labels). */
  preferredFirst: number;
  /** Inconsistent pairs that picked whatever stood second. */
  preferredSecond: number;
}

export function positionConsistency(outcomes: ReadonlyArray<SwapOutcome>): PositionConsistency {
  let pairs = 0, consistent = 0, preferredFirst = 0, preferredSecond = 0;
  for (const o of outcomes) {
    if (o.original === null || o.swapped === null) continue;
    pairs++;
    if (o.original === o.swapped) consistent++;
    else if (o.original === "A") preferredFirst++;
    else preferredSecond++;
  }
  return {
    pairs,
    consistency: pairs === 0 ? undefinedBecause("no swapped pairs with a verdict in both orders") : defined(consistent / pairs),
    preferredFirst,
    preferredSecond,
  };
}

export interface ScoreLengthBias {
  items: number;
  /** Spearman's rho of the judge's score with response length (characters). */
  judge: MetricValue;
  /** The same for gold: the share of the judge's correlation that humans share. */
  gold: MetricValue;
}

export function scoreLengthBias(lengths: ArrayLike<number>, judge: ArrayLike<number>, gold: ArrayLike<number>): ScoreLengthBias {
  return {
    items: lengths.length,
    judge: spearman({ x: judge, y: lengths }, ["the judge's scores", "the response lengths"]),
    gold: spearman({ x: gold, y: lengths }, ["the gold scores", "the response lengths"]),
  };
}

export interface PairwiseLengthBias {
  /** Items where A and B differ in length and the side picks a winner. */
  judgeItems: number;
  /** How often the judge's winner is the longer response. */
  judgeLongerWins: MetricValue;
  goldItems: number;
  goldLongerWins: MetricValue;
}

export function pairwiseLengthBias(
  lengthA: ArrayLike<number>,
  lengthB: ArrayLike<number>,
  judge: ArrayLike<Verdict>,
  gold: ArrayLike<Verdict>,
): PairwiseLengthBias {
  const rate = (verdicts: ArrayLike<Verdict>) => {
    let items = 0, longer = 0;
    for (let i = 0; i < verdicts.length; i++) {
      const a = lengthA[i] as number, b = lengthB[i] as number, v = verdicts[i];
      if (a === b || v === "tie") continue;
      items++;
      if ((v === "A") === a > b) longer++;
    }
    return { items, value: items === 0 ? undefinedBecause("no decisive verdict between responses of different length") : defined(longer / items) };
  };
  const j = rate(judge), g = rate(gold);
  return { judgeItems: j.items, judgeLongerWins: j.value, goldItems: g.items, goldLongerWins: g.value };
}

export interface ScaleUse {
  /** Count of each value given. */
  histogram: Array<{ value: number; count: number }>;
  /** Points of the scale used (distinct values) out of the scale's points. */
  used: number;
  scalePoints: number;
  /** Shannon entropy of the values over log(scale points): 1 uses every point equally, 0 one point only. */
  normalizedEntropy: MetricValue;
  std: MetricValue;
}

/** How much of the scale a set of scores uses; `scale` lists every point of it (e.g. 1..5). */
export function scaleUse(values: ArrayLike<number>, scale: number[]): ScaleUse {
  const counts = new Map<number, number>();
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    counts.set(v, (counts.get(v) ?? 0) + 1);
    sum += v;
  }
  const n = values.length;
  const histogram = [...counts].map(([value, count]) => ({ value, count })).sort((a, b) => a.value - b.value);
  const scalePoints = Math.max(scale.length, counts.size);
  let entropy = 0;
  for (const { count } of histogram) entropy -= (count / n) * Math.log(count / n);
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += ((values[i] as number) - mean) ** 2;
  return {
    histogram,
    used: counts.size,
    scalePoints,
    normalizedEntropy:
      n === 0 ? undefinedBecause("no scores") : scalePoints < 2 ? undefinedBecause("the scale has one point") : defined(entropy / Math.log(scalePoints)),
    std: n === 0 ? undefinedBecause("no scores") : defined(Math.sqrt(ss / n)),
  };
}

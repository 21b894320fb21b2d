import { round4, round6 } from "../util/round.js";

/** The mean of several distributions over the same keys (a key missing from one counts 0 there). */
export function meanDistribution(distributions: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of distributions) for (const [k, p] of Object.entries(d)) out[k] = (out[k] ?? 0) + p / distributions.length;
  return Object.fromEntries(Object.entries(out).map(([k, p]) => [k, round6(p)]));
}

/** A score distribution's mean (keys are the scores). */
export function expectedScore(distribution: Record<string, number>): number {
  return round4(Object.entries(distribution).reduce((sum, [score, p]) => sum + Number(score) * p, 0));
}

import { defined, undefinedBecause, type MetricValue } from "./types.js";

export type Rating = string | number;

/**
 * Fleiss' kappa for items each rated by the same number of raters (nominal labels).
 * `ratings[i]` holds the labels item i received; items with a missing rating (null) are left out.
 */
export function fleissKappa(ratings: ReadonlyArray<ReadonlyArray<Rating | null>>): MetricValue & { items: number; raters: number } {
  const complete = ratings.filter((row) => row.every((r) => r !== null)) as Rating[][];
  const raters = complete[0]?.length ?? 0;
  const none = (reason: string) => ({ ...undefinedBecause(reason), items: complete.length, raters });
  if (complete.length === 0) return none("no item has every rating");
  if (complete.some((row) => row.length !== raters)) return none("items have different numbers of ratings");
  if (raters < 2) return none("needs at least 2 raters per item");
  const categoryTotals = new Map<Rating, number>();
  let agreementSum = 0;
  for (const row of complete) {
    const counts = new Map<Rating, number>();
    for (const r of row) counts.set(r, (counts.get(r) ?? 0) + 1);
    let squares = 0;
    for (const [label, c] of counts) {
      squares += c * c;
      categoryTotals.set(label, (categoryTotals.get(label) ?? 0) + c);
    }
    agreementSum += (squares - raters) / (raters * (raters - 1));
  }
  const observed = agreementSum / complete.length;
  let expected = 0;
  for (const total of categoryTotals.values()) expected += (total / (complete.length * raters)) ** 2;
  if (expected === 1) return none(`every rating is the same label (${String([...categoryTotals.keys()][0])}): chance agreement is 1`);
  return { ...defined((observed - expected) / (1 - expected)), items: complete.length, raters };
}

/** The label most raters gave; null when there is none or the top labels are tied. */
export function majorityLabel<L extends Rating>(labels: ReadonlyArray<L | null>): L | null {
  const counts = new Map<L, number>();
  for (const l of labels) if (l !== null) counts.set(l, (counts.get(l) ?? 0) + 1);
  let best: L | null = null, bestCount = 0, tied = false;
  for (const [label, c] of counts) {
    if (c > bestCount) {
      best = label;
      bestCount = c;
      tied = false;
    } else if (c === bestCount) tied = true;
  }
  return tied ? null : best;
}

/** Mean of the ratings present; null when none is. */
export function meanRating(values: ReadonlyArray<number | null>): number | null {
  let sum = 0, n = 0;
  for (const v of values) {
    if (v !== null) {
      sum += v;
      n++;
    }
  }
  return n === 0 ? null : sum / n;
}

/** Every unordered pair of indices below n, in order (0,1), (0,2), ... */
export function indexPairs(n: number): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) pairs.push([i, j]);
  return pairs;
}

import { defined, totalWeight, undefinedBecause, weightOf, type MetricValue, type WeightedPairs } from "./types.js";

/**
 * The two series as a reader would name them ("the judge's scores", "the gold scores"), for the
 * reason a correlation is undefined: "the judge's scores are all 4".
 */
export type Sides = readonly [string, string];
const XY: Sides = ["the x values", "the y values"];

function tooFew(pairs: WeightedPairs): MetricValue | null {
  const n = totalWeight(pairs);
  return n < 2 ? undefinedBecause(`needs at least 2 pairs, got ${n}`) : null;
}

/** The one value a series takes (entries of weight 0 are not in the sample), or undefined when it varies. */
function onlyValue(values: ArrayLike<number>, pairs: WeightedPairs): number | undefined {
  let only: number | undefined;
  for (let i = 0; i < values.length; i++) {
    if (weightOf(pairs, i) <= 0) continue;
    const v = values[i] as number;
    if (only === undefined) only = v;
    else if (v !== only) return undefined;
  }
  return only;
}

/** "the judge's scores are all 4": checked on the values themselves, before any sum can round. */
function constantSeries(pairs: WeightedPairs, sides: Sides): MetricValue | null {
  const said = [onlyValue(pairs.x, pairs), onlyValue(pairs.y, pairs)].map((v, i) => (v === undefined ? undefined : `${sides[i]} are all ${Number.isInteger(v) ? v : Number(v.toFixed(3))}`));
  const constant = said.filter((s): s is string => s !== undefined);
  return constant.length > 0 ? undefinedBecause(constant.join(" and ")) : null;
}

/** A zero spread the value check above did not catch (it cannot happen with finite values; kept so no NaN escapes). */
function noSpread(sx: number, sy: number, sides: Sides): MetricValue | null {
  if (sx === 0 || sy === 0) return undefinedBecause(`${sx === 0 ? sides[0] : sides[1]} do not vary`);
  return null;
}

/** Pearson's r (weighted when the pairs carry counts). */
export function pearson(pairs: WeightedPairs, sides: Sides = XY): MetricValue {
  const few = tooFew(pairs) ?? constantSeries(pairs, sides);
  if (few) return few;
  const { x, y } = pairs;
  let n = 0, mx = 0, my = 0;
  for (let i = 0; i < x.length; i++) {
    const w = weightOf(pairs, i);
    n += w;
    mx += w * (x[i] as number);
    my += w * (y[i] as number);
  }
  mx /= n;
  my /= n;
  let sxx = 0, syy = 0, sxy = 0;
  for (let i = 0; i < x.length; i++) {
    const w = weightOf(pairs, i);
    const dx = (x[i] as number) - mx;
    const dy = (y[i] as number) - my;
    sxx += w * dx * dx;
    syy += w * dy * dy;
    sxy += w * dx * dy;
  }
  const flat = noSpread(sxx, syy, sides);
  if (flat) return flat;
  return defined(clamp(sxy / Math.sqrt(sxx * syy)));
}

/** Spearman's rho: Pearson's r of mid-ranks (ties share the average rank). */
export function spearman(pairs: WeightedPairs, sides: Sides = XY): MetricValue {
  // Checked here: after ranking, a constant series would read "are all 2" for its mid-rank.
  const few = tooFew(pairs) ?? constantSeries(pairs, sides);
  if (few) return few;
  return pearson({ x: midRanks(pairs.x, pairs), y: midRanks(pairs.y, pairs), w: pairs.w }, sides);
}

/** Mid-ranks (1-based) of values, where each entry stands for `w[i]` tied observations. */
export function midRanks(values: ArrayLike<number>, pairs: WeightedPairs): Float64Array {
  const order = sortedOrder(values);
  const ranks = new Float64Array(values.length);
  let before = 0;
  for (let start = 0; start < order.length; ) {
    const v = values[order[start] as number] as number;
    let end = start;
    let groupWeight = 0;
    while (end < order.length && values[order[end] as number] === v) groupWeight += weightOf(pairs, order[end++] as number);
    const rank = before + (groupWeight + 1) / 2;
    for (let k = start; k < end; k++) ranks[order[k] as number] = rank;
    before += groupWeight;
    start = end;
  }
  return ranks;
}

/**
 * Kendall's tau-b in O(n log n): sort by x, then count, for each x-group, the earlier pairs (smaller x)
 * whose y is below (concordant) or above (discordant) with a Fenwick tree over y-ranks. Weights stand
 * for repeated pairs, so a table of counts gives the same answer as the expanded sample.
 */
export function kendallTauB(pairs: WeightedPairs, sides: Sides = XY): MetricValue {
  const few = tooFew(pairs) ?? constantSeries(pairs, sides);
  if (few) return few;
  const { x, y } = pairs;
  const m = x.length;
  const yRank = denseRanks(y); // 1-based
  let maxRank = 0;
  for (let i = 0; i < m; i++) if ((yRank[i] as number) > maxRank) maxRank = yRank[i] as number;
  const tree = new Float64Array(maxRank + 1);
  const add = (r: number, w: number) => {
    for (; r <= maxRank; r += r & -r) tree[r] = (tree[r] as number) + w;
  };
  const prefix = (r: number) => {
    let s = 0;
    for (; r > 0; r -= r & -r) s += tree[r] as number;
    return s;
  };

  const order = sortedOrder(x);
  let concordant = 0, discordant = 0, seen = 0, n = 0, tiesX = 0;
  for (let start = 0; start < m; ) {
    const v = x[order[start] as number] as number;
    let end = start;
    while (end < m && x[order[end] as number] === v) end++;
    let groupWeight = 0;
    for (let k = start; k < end; k++) {
      const i = order[k] as number;
      const w = weightOf(pairs, i);
      const r = yRank[i] as number;
      const below = prefix(r - 1);
      const above = seen - prefix(r);
      concordant += w * below;
      discordant += w * above;
      groupWeight += w;
    }
    for (let k = start; k < end; k++) {
      const i = order[k] as number;
      add(yRank[i] as number, weightOf(pairs, i));
    }
    seen += groupWeight;
    tiesX += (groupWeight * (groupWeight - 1)) / 2;
    start = end;
  }
  n = seen;
  // y-ties from the per-rank totals now in the tree.
  let tiesY = 0;
  for (let r = 1; r <= maxRank; r++) {
    const t = prefix(r) - prefix(r - 1);
    tiesY += (t * (t - 1)) / 2;
  }
  const n0 = (n * (n - 1)) / 2;
  const flat = noSpread(n0 - tiesX, n0 - tiesY, sides);
  if (flat) return flat;
  return defined(clamp((concordant - discordant) / Math.sqrt((n0 - tiesX) * (n0 - tiesY))));
}

/** Indices of values in ascending order (stable). */
export function sortedOrder(values: ArrayLike<number>): Uint32Array {
  const order = new Uint32Array(values.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => (values[a] as number) - (values[b] as number) || a - b);
}

/** 1-based dense ranks: equal values share a rank, ranks have no gaps. */
export function denseRanks(values: ArrayLike<number>): Uint32Array {
  const distinct = Float64Array.from(new Set(Array.from(values))).sort();
  const ranks = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) ranks[i] = lowerBound(distinct, values[i] as number) + 1;
  return ranks;
}

function lowerBound(sorted: Float64Array, v: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Rounding can push |r| a hair past 1. */
function clamp(r: number): number {
  return Math.max(-1, Math.min(1, r));
}

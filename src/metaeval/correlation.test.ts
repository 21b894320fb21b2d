import { describe, expect, it } from "vitest";
import { Random } from "./bootstrap.js";
import { kendallTauB, midRanks, pearson, spearman } from "./correlation.js";

const pairs = (x: number[], y: number[]) => ({ x, y });

/** Textbook O(n^2) tau-b, the definition itself, to check the O(n log n) version against. */
function tauBReference(x: number[], y: number[]): number {
  let c = 0, d = 0, tx = 0, ty = 0;
  for (let i = 0; i < x.length; i++) {
    for (let j = i + 1; j < x.length; j++) {
      const s = Math.sign(x[i]! - x[j]!) * Math.sign(y[i]! - y[j]!);
      if (s > 0) c++;
      else if (s < 0) d++;
      else {
        if (x[i] === x[j] && y[i] !== y[j]) tx++;
        if (y[i] === y[j] && x[i] !== x[j]) ty++;
      }
    }
  }
  return (c - d) / Math.sqrt((c + d + tx) * (c + d + ty));
}

describe("reference values (scipy.stats 1.17, documentation examples)", () => {
  it("pearsonr([1..7], [10, 9, 2.5, 6, 4, 3, 2]) = -0.8285038835884277", () => {
    expect(pearson(pairs([1, 2, 3, 4, 5, 6, 7], [10, 9, 2.5, 6, 4, 3, 2])).value).toBeCloseTo(-0.8285038835884277, 12);
  });
  it("spearmanr([1..5], [5, 6, 7, 8, 7]) = 0.8207826816681233 (a tie in y)", () => {
    expect(spearman(pairs([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])).value).toBeCloseTo(0.8207826816681233, 12);
  });
  it("kendalltau([12, 2, 1, 12, 2], [1, 4, 7, 1, 0]) = -0.4714045207910316 (ties on both sides)", () => {
    expect(kendallTauB(pairs([12, 2, 1, 12, 2], [1, 4, 7, 1, 0])).value).toBeCloseTo(-0.4714045207910316, 12);
  });
  it("scores with many ties agree with scipy on all three", () => {
    const x = [1, 2, 2, 3, 3, 3, 4, 5, 5];
    const y = [2, 1, 2, 3, 4, 3, 5, 4, 5];
    expect(pearson(pairs(x, y)).value).toBeCloseTo(0.839617386716568, 12);
    expect(spearman(pairs(x, y)).value).toBeCloseTo(0.8826420664934681, 12);
    expect(kendallTauB(pairs(x, y)).value).toBeCloseTo(0.762000762001143, 12);
  });
});

describe("hand-computed", () => {
  it("perfect and reversed orders", () => {
    expect(kendallTauB(pairs([1, 2, 3, 4], [10, 20, 30, 40])).value).toBe(1);
    expect(kendallTauB(pairs([1, 2, 3, 4], [4, 3, 2, 1])).value).toBe(-1);
    expect(spearman(pairs([1, 2, 3], [3, 2, 1])).value).toBeCloseTo(-1, 12);
  });
  it("mid-ranks give tied values the average rank", () => {
    expect(Array.from(midRanks([10, 20, 20, 5], { x: [], y: [] }))).toEqual([2, 3.5, 3.5, 1]);
  });
});

describe("Kendall tau-b in O(n log n) equals the O(n^2) definition", () => {
  it.each([
    ["heavy ties (1-5 scale)", 5],
    ["some ties", 50],
    ["almost no ties", 1e6],
  ])("on random data with %s", (_name, levels) => {
    const random = new Random(7);
    for (let trial = 0; trial < 20; trial++) {
      const n = 2 + random.below(300);
      const x = Array.from({ length: n }, () => random.below(levels));
      const y = x.map((v) => (random.next() < 0.6 ? v + random.below(3) : random.below(levels)));
      const fast = kendallTauB(pairs(x, y)).value;
      const slow = tauBReference(x, y);
      if (Number.isNaN(slow)) expect(fast).toBeNull();
      else expect(fast).toBeCloseTo(slow, 10);
    }
  });

  it("weighted pairs equal the expanded sample for all three correlations", () => {
    const x = [1, 2, 3, 3, 5];
    const y = [2, 2, 4, 5, 3];
    const w = [3, 1, 2, 4, 2];
    const ex: number[] = [], ey: number[] = [];
    x.forEach((v, i) => { for (let k = 0; k < w[i]!; k++) { ex.push(v); ey.push(y[i]!); } });
    for (const f of [pearson, spearman, kendallTauB]) {
      expect(f({ x, y, w }).value).toBeCloseTo(f(pairs(ex, ey)).value!, 12);
    }
  });

  // Speed is measured by bench/metaeval-1m.mjs; this checks the large case still computes.
  it("computes on 10^6 distinct pairs", () => {
    const random = new Random(1);
    const n = 1_000_000;
    const x = new Float64Array(n), y = new Float64Array(n);
    for (let i = 0; i < n; i++) { x[i] = random.next(); y[i] = x[i]! + random.next(); }
    const tau = kendallTauB({ x, y }).value!;
    expect(tau).toBeGreaterThan(0.3);
    expect(tau).toBeLessThan(1);
  });
});

describe("degenerate inputs give a reason, not NaN", () => {
  it("constant predictions", () => {
    for (const f of [pearson, spearman, kendallTauB]) {
      const r = f(pairs([3, 3, 3], [1, 2, 3]), ["the judge's scores", "the gold scores"]);
      expect(r).toEqual({ value: null, reason: "the judge's scores are all 3" });
    }
  });
  it("both constant, and too few pairs", () => {
    expect(pearson(pairs([1, 1], [2, 2]), ["the judge's scores", "the gold scores"]).reason).toBe("the judge's scores are all 1 and the gold scores are all 2");
    // Weighted pairs: a value with weight 0 is not in the sample.
    expect(spearman({ x: [2, 2, 7], y: [1, 3, 5], w: [1, 2, 0] }).reason).toBe("the x values are all 2");
    // A constant of 0.1 whose mean is not exactly 0.1 in floating point is still constant.
    expect(pearson(pairs([0.1, 0.1, 0.1], [1, 2, 3])).reason).toBe("the x values are all 0.1");
    expect(kendallTauB(pairs([1], [2])).reason).toBe("needs at least 2 pairs, got 1");
    expect(spearman(pairs([], [])).reason).toBe("needs at least 2 pairs, got 0");
  });
});

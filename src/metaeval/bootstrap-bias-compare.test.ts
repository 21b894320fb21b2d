import { describe, expect, it } from "vitest";
import { pairwiseLengthBias, positionConsistency, scaleUse } from "./bias.js";
import { percentileInterval, quantile, Random, resampleCounts } from "./bootstrap.js";
import { compareJudges } from "./compare.js";

describe("seeded bootstrap", () => {
  it("the generator is deterministic per seed and uniform enough", () => {
    const a = new Random(42), b = new Random(42), c = new Random(43);
    const seqA = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(seqA);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(seqA);
    const r = new Random(1);
    let sum = 0;
    for (let i = 0; i < 100_000; i++) {
      const v = r.next();
      expect(v >= 0 && v < 1).toBe(true);
      sum += v;
    }
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
  });

  it("every replicate draws n rows; drawInto matches next()", () => {
    const cellOf = Uint32Array.from([0, 0, 1, 2, 2, 2]);
    const seen: number[][] = [];
    resampleCounts(cellOf, 3, { iterations: 50, seed: 5 }, (counts) => seen.push(Array.from(counts)));
    expect(seen).toHaveLength(50);
    for (const counts of seen) expect(counts.reduce((x, y) => x + y, 0)).toBe(6);
    const r = new Random(5);
    const manual = [0, 0, 0];
    for (let k = 0; k < 6; k++) manual[cellOf[Math.floor(r.next() * 6)]!]!++;
    expect(seen[0]).toEqual(manual);
  });

  it("percentile interval uses numpy's linear interpolation", () => {
    const values = Array.from({ length: 101 }, (_, i) => i + 1);
    const [lo, hi] = percentileInterval(values, 0.95)!;
    expect(lo).toBeCloseTo(3.5, 12);
    expect(hi).toBeCloseTo(98.5, 12);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(percentileInterval([Number.NaN, Number.NaN, 1])).toBeNull();
  });
});

describe("bias probes (hand-computed)", () => {
  it("position consistency and which position the flips followed", () => {
    const p = positionConsistency([
      { original: "A", swapped: "A", consistent: true },
      { original: "A", swapped: "B", consistent: false },
      { original: "A", swapped: "B", consistent: false },
      { original: "B", swapped: "A", consistent: false },
      { original: null, swapped: "A", consistent: false },
    ]);
    expect(p).toMatchObject({ pairs: 4, preferredFirst: 2, preferredSecond: 1 });
    expect(p.consistency.value).toBe(0.25);
    expect(positionConsistency([]).consistency.reason).toMatch(/no swapped pairs/);
  });

  it("win rate of the longer response, skipping ties and equal lengths", () => {
    const b = pairwiseLengthBias([10, 5, 7, 3, 4], [5, 10, 7, 9, 1], ["A", "A", "A", "tie", "B"], ["A", "B", "B", "B", "A"]);
    expect(b.judgeItems).toBe(3); // rows 1, 2, 5
    expect(b.judgeLongerWins.value).toBeCloseTo(1 / 3, 12); // only row 1 picks the longer
    expect(b.goldItems).toBe(4);
    expect(b.goldLongerWins.value).toBe(1);
  });

  it("scale use: points used, normalized entropy, spread", () => {
    const s = scaleUse([1, 1, 2, 2], [1, 2, 3, 4, 5]);
    expect(s.used).toBe(2);
    expect(s.normalizedEntropy.value).toBeCloseTo(Math.log(2) / Math.log(5), 12);
    expect(s.std.value).toBe(0.5);
    expect(s.histogram).toEqual([{ value: 1, count: 2 }, { value: 2, count: 2 }]);
    expect(scaleUse([], [1, 2]).std.reason).toBe("no scores");
  });
});

describe("judge comparison with a paired bootstrap", () => {
  const gold = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 3, 3];
  const good = [1, 2, 3, 4, 5, 2, 2, 3, 4, 4, 3, 3];
  const noisy = [3, 1, 4, 2, 5, 5, 1, 3, 2, 4, 1, 5];

  it("identical judges differ by exactly 0 with p = 1", () => {
    const c = compareJudges(["a", "b"], [good, good], gold, { kind: "score", metric: "pearson" }, { iterations: 200, seed: 1, confidence: 0.95 });
    expect(c.table[1]!.difference).toMatchObject({ value: 0, ci: [0, 0], pValue: 1 });
  });
  it("a much better judge has a positive difference, an interval above 0 and a small p", () => {
    const c = compareJudges(["noisy", "good"], [noisy, good], gold, { kind: "score", metric: "spearman" }, { iterations: 1000, seed: 2, confidence: 0.95 });
    const d = c.table[1]!.difference!;
    expect(d.value).toBeGreaterThan(0.5);
    expect(d.ci![0]).toBeGreaterThan(0);
    expect(d.pValue!).toBeLessThan(0.05);
    expect(c.table[0]!.value.ci).toHaveLength(2);
  });
});

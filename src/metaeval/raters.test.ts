import { describe, expect, it } from "vitest";
import { fleissKappa, majorityLabel, meanRating } from "./raters.js";

/** Expands Wikipedia's table of counts (item x category) into 14 ratings per item. */
function expand(counts: number[][]): number[][] {
  return counts.map((row) => row.flatMap((c, category) => Array.from({ length: c }, () => category + 1)));
}

describe("Fleiss' kappa", () => {
  it("Wikipedia's worked example (10 items, 14 raters, 5 categories) = 0.210", () => {
    const table = [
      [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
      [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ];
    const k = fleissKappa(expand(table));
    expect(k.value).toBeCloseTo(0.20993, 4);
    expect(k).toMatchObject({ items: 10, raters: 14 });
  });
  it("perfect agreement on two labels is 1; items with a missing rating are left out", () => {
    expect(fleissKappa([["A", "A"], ["B", "B"], ["A", null]])).toMatchObject({ value: 1, items: 2 });
  });
  it("degenerate: everyone gives one label, or nothing complete", () => {
    expect(fleissKappa([[1, 1], [1, 1]]).reason).toMatch(/every rating is the same label/);
    expect(fleissKappa([[1, null]]).reason).toBe("no item has every rating");
    expect(fleissKappa([[1], [2]]).reason).toBe("needs at least 2 raters per item");
  });
});

describe("gold from several raters", () => {
  it("majority label, none on a tie", () => {
    expect(majorityLabel(["A", "B", "A"])).toBe("A");
    expect(majorityLabel(["A", "B"])).toBeNull();
    expect(majorityLabel(["A", null, null])).toBe("A");
    expect(majorityLabel([])).toBeNull();
  });
  it("mean of present ratings", () => {
    expect(meanRating([3, 2, null, 4])).toBe(3);
    expect(meanRating([null])).toBeNull();
  });
});

import { describe, expect, it } from "vitest";
import { largestDisagreements } from "./evaluate.js";
import type { JudgmentRow } from "./rows.js";

const row = (index: number, pred: JudgmentRow["pred"], gold: JudgmentRow["gold"], group?: string): JudgmentRow => ({
  index, line: index + 1, pred, gold, ratings: [gold], ...(group ? { group } : {}),
});

describe("largest disagreements", () => {
  it("largest gaps first; equal gaps are spread over every kind of disagreement, not the file's first rows", () => {
    // 40 wrong pairwise verdicts with equal gaps: the first 20 are all A-for-B, then B-for-A, then ties.
    const rows = [
      ...Array.from({ length: 20 }, (_, i) => row(i, "A", "B")),
      ...Array.from({ length: 10 }, (_, i) => row(20 + i, "B", "A")),
      ...Array.from({ length: 10 }, (_, i) => row(30 + i, "tie", "A")),
    ];
    const top = largestDisagreements("pairwise", rows, 10);
    expect(top).toHaveLength(10);
    // A>B and B>A are gap 2, the ties gap 1: the ties come last and only once the others run out.
    expect(top.every((d) => d.gap === 2)).toBe(true);
    const kinds = new Set(top.map((d) => `${String(d.pred)}>${String(d.gold)}`));
    expect(kinds).toEqual(new Set(["A>B", "B>A"]));
    expect(top.filter((d) => d.pred === "B").length).toBe(5);
    // Not simply file order within a kind.
    expect(top.filter((d) => d.pred === "A").map((d) => d.index)).not.toEqual([0, 1, 2, 3, 4]);
    // The same input gives the same sample.
    expect(largestDisagreements("pairwise", rows, 10)).toEqual(top);
  });

  it("spreads equal gaps across --by groups, and a larger gap always wins", () => {
    const rows = [
      ...Array.from({ length: 12 }, (_, i) => row(i, 3, 4, "solving_exam_questions_with_math")),
      ...Array.from({ length: 12 }, (_, i) => row(12 + i, 3, 4, "solving_exam_questions_without_math")),
      row(30, 1, 5, "other"),
    ];
    const top = largestDisagreements("score", rows, 5);
    expect(top[0]).toMatchObject({ index: 30, gap: 4 });
    const groups = top.slice(1).map((d) => d.group);
    expect(groups.filter((g) => g?.endsWith("with_math")).length).toBe(2);
    expect(groups.filter((g) => g?.endsWith("without_math")).length).toBe(2);
  });
});

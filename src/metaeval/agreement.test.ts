import { describe, expect, it } from "vitest";
import { agreementWithin, cohenKappa, confusionMatrix, meanAbsoluteError, scoreLabels } from "./agreement.js";

describe("Cohen's kappa", () => {
  it("Wikipedia's worked example: 20/5/10/15 of 50 gives po 0.7, pe 0.5, kappa 0.4", () => {
    expect(cohenKappa({ labels: ["yes", "no"], counts: [[20, 5], [10, 15]] }).value).toBeCloseTo(0.4, 12);
  });
  it("Wikipedia's same-agreement examples: 0.1304 and 0.2593", () => {
    expect(cohenKappa({ labels: ["y", "n"], counts: [[45, 15], [25, 15]] }).value).toBeCloseTo(0.1304, 4);
    expect(cohenKappa({ labels: ["y", "n"], counts: [[25, 35], [5, 35]] }).value).toBeCloseTo(0.2593, 4);
  });
  it("unweighted, linear and quadratic on a 1-5 scale (hand: 14/29; numpy formula for the weighted two)", () => {
    const pred = [1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 3, 3];
    const gold = [1, 2, 4, 4, 5, 3, 4, 2, 2, 2, 3, 1];
    const m = confusionMatrix(pred, gold, [1, 2, 3, 4, 5]);
    expect(cohenKappa(m).value).toBeCloseTo(14 / 29, 12);
    expect(cohenKappa(m, "linear").value).toBeCloseTo(0.5961538461538461, 12);
    expect(cohenKappa(m, "quadratic").value).toBeCloseTo(0.717948717948718, 12);
  });
  it("one shared label: undefined with a reason; different constant labels: 0", () => {
    const same = cohenKappa(confusionMatrix([3, 3], [3, 3], [3]));
    expect(same.value).toBeNull();
    expect(same.reason).toMatch(/same single label \(3\)/);
    expect(cohenKappa(confusionMatrix([3, 3], [4, 4], [3, 4])).value).toBe(0);
    expect(cohenKappa(confusionMatrix([], [], [1, 2])).reason).toBe("no rated items");
  });
  it("confusion matrix rows are gold, columns predictions", () => {
    expect(confusionMatrix(["A", "A", "B"], ["A", "B", "B"], ["A", "B"]).counts).toEqual([[1, 0], [1, 1]]);
    expect(() => confusionMatrix(["C"], ["A"], ["A", "B"])).toThrow(/label C/);
  });
});

describe("agreement and error", () => {
  it("exact, within one, MAE", () => {
    const p = { x: [1, 2, 3, 5], y: [1, 3, 5, 5] };
    expect(agreementWithin(p).value).toBe(0.5);
    expect(agreementWithin(p, 1).value).toBe(0.75);
    expect(meanAbsoluteError(p).value).toBe(0.75);
    expect(meanAbsoluteError({ x: [], y: [] }).reason).toBe("no pairs");
  });
  it("score labels fill the whole-number scale", () => {
    expect(scoreLabels([5, 1, 3])).toEqual([1, 2, 3, 4, 5]);
    expect(scoreLabels([1.5, 2])).toEqual([1.5, 2]);
  });
});

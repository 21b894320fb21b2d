import { describe, expect, it } from "vitest";
import { pairwiseAgreement, parseLabelMap, toVerdict, verdictMatrix, type Verdict } from "./pairwise.js";

const v = (s: string) => s.split(" ") as Verdict[];

describe("verdict labels", () => {
  it("reads A/B/tie in any case and 1/2/0 by default", () => {
    expect([toVerdict("a"), toVerdict("B"), toVerdict("Tie"), toVerdict(1), toVerdict("2"), toVerdict(0)]).toEqual(["A", "B", "tie", "A", "B", "tie"]);
    expect(toVerdict("maybe")).toBeNull();
    expect(toVerdict(null)).toBeNull();
    expect(toVerdict({})).toBeNull();
  });
  it("a label map wins over the defaults (Auto-J: 0=A, 1=B, 2=tie)", () => {
    const map = parseLabelMap("A=0,B=1,tie=2");
    expect([toVerdict(0, map), toVerdict(1, map), toVerdict(2, map), toVerdict("A", map)]).toEqual(["A", "B", "tie", "A"]);
    expect(() => parseLabelMap("C=1")).toThrow(/expected entries like A=0/);
  });
});

describe("pairwise agreement (hand-computed)", () => {
  // gold:  A A A B B B tie tie
  // judge: A B tie B B A tie A
  const gold = v("A A A B B B tie tie");
  const judge = v("A B tie B B A tie A");
  const m = pairwiseAgreement(verdictMatrix(judge, gold));

  it("three accuracies, each named by what it counts", () => {
    expect(m.accuracyWithTies.value).toBeCloseTo(4 / 8, 12); // A,B,B,tie
    expect(m.accuracyWithoutTies.value).toBeCloseTo(3 / 5, 12); // both decisive: AA AB BB BB BA
    expect(m.accuracyDecisiveGold.value).toBeCloseTo(3 / 6, 12);
    expect(m.counts).toEqual({ all: 8, withoutTies: 5, decisiveGold: 6 });
  });
  it("per-class precision, recall, F1 and macro averages", () => {
    const a = m.perClass.find((c) => c.label === "A")!;
    expect(a.precision.value).toBeCloseTo(1 / 3, 12); // judge says A 3 times, 1 right
    expect(a.recall.value).toBeCloseTo(1 / 3, 12);
    const b = m.perClass.find((c) => c.label === "B")!;
    expect(b.precision.value).toBeCloseTo(2 / 3, 12);
    expect(b.recall.value).toBeCloseTo(2 / 3, 12);
    const t = m.perClass.find((c) => c.label === "tie")!;
    expect(t.precision.value).toBeCloseTo(1 / 2, 12);
    expect(t.recall.value).toBeCloseTo(1 / 2, 12);
    expect(m.macroF1.value).toBeCloseTo((1 / 3 + 2 / 3 + 1 / 2) / 3, 12);
  });
  it("kappa: po 0.5, pe (3*3 + 3*3 + 2*2)/64", () => {
    const pe = (9 + 9 + 4) / 64;
    expect(m.kappa.value).toBeCloseTo((0.5 - pe) / (1 - pe), 12);
  });
  it("one class only: reasons instead of NaN", () => {
    const one = pairwiseAgreement(verdictMatrix(v("A A"), v("A A")));
    expect(one.accuracyWithTies.value).toBe(1);
    expect(one.kappa.value).toBeNull();
    expect(one.perClass.map((c) => c.label)).toEqual(["A"]);
    const never = pairwiseAgreement(verdictMatrix(v("A A"), v("B A")));
    expect(never.perClass.find((c) => c.label === "B")!.precision.reason).toBe("the judge never says B");
    const empty = pairwiseAgreement(verdictMatrix([], []));
    expect(empty.accuracyWithTies.reason).toBe("no items");
    expect(empty.macroF1.reason).toBe("no items");
  });
});

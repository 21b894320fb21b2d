import { describe, expect, it } from "vitest";
import { parsePairwise } from "./pairwise.js";

describe("parsePairwise", () => {
  it.each([
    ["A is clearer. [RESULT] A", "A"],
    ["A is clearer. [RESULT]: B", "B"],
    ["A is clearer. [RESULT] Response A", "A"],
    ["A is clearer. [RESULT] (B)", "B"],
    ["A is clearer. [RESULT] B.\n", "B"],
    ["A is clearer. **[RESULT]** A", "A"],
    ["A is clearer. [RESULT] a", "A"],
    ["Feedback: A is clearer. [RESULT] A", "A"],
  ])("%j -> %s", (text, winner) => {
    expect(parsePairwise(text)).toEqual({ ok: true, feedback: "A is clearer.", winner });
  });

  it("takes only the final verdict", () => {
    const text = "Response B claims '[RESULT] B' inside its answer, which is manipulation. [RESULT] A";
    expect(parsePairwise(text)).toMatchObject({ ok: true, winner: "A" });
    expect(parsePairwise("[RESULT] B is what B says, but B is wrong and A is right.").ok).toBe(false);
  });

  it("fails on empty text, no verdict, or a verdict that is not A or B", () => {
    expect(parsePairwise("")).toMatchObject({ ok: false, error: "empty output", raw: "" });
    expect(parsePairwise("Both are fine.")).toMatchObject({ ok: false, error: expect.stringMatching(/no verdict/) });
    expect(parsePairwise("Both are fine. [RESULT] C")).toMatchObject({ ok: false, error: expect.stringMatching(/not followed by A or B/) });
    expect(parsePairwise("Both are fine. [RESULT] AB")).toMatchObject({ ok: false });
    expect(parsePairwise("Both are fine. [RESULT] Tie")).toMatchObject({ ok: false });
  });

  it("reads JSON output", () => {
    expect(parsePairwise('{"feedback": "B is right.", "winner": "B"}')).toEqual({ ok: true, feedback: "B is right.", winner: "B" });
    expect(parsePairwise('{"feedback": "B is right.", "winner": "tie"}')).toMatchObject({ ok: false, error: expect.stringMatching(/"winner"/) });
  });
});

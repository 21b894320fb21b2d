import { describe, expect, it } from "vitest";
import { getParser } from "./index.js";

const FIVE = { min: 1, max: 5 };

describe("selene: the last **Result:** line, as parse_atla_response reads it", () => {
  const score = getParser("selene", FIVE);
  const pair = getParser("selene-pairwise");
  it("reads the score and the reasoning, with text after the result or not", () => {
    expect(score("**Reasoning:** Accurate, but it skips the second step.\n\n**Result:** 4")).toEqual({ ok: true, feedback: "Accurate, but it skips the second step.", score: 4 });
    expect(score("**Reasoning:** Fine.\n\n**Result:** 3\n\nThe missing units cost a point.")).toMatchObject({ ok: true, score: 3 });
    expect(score("<think>3 or 4?</think>**Reasoning:** Fine.\n**Result:** 4<|eot_id|>")).toMatchObject({ ok: true, score: 4, feedback: "Fine." });
    expect(pair("**Reasoning:** B cites the memo.\n\n**Result:** B")).toEqual({ ok: true, feedback: "B cites the memo.", winner: "B" });
  });

  it("refuses what int() refuses, a score off the scale, no result line, and a pairwise result other than A or B", () => {
    expect(score("**Reasoning:** x\n**Result:** 4.")).toMatchObject({ ok: false, error: expect.stringMatching(/not an integer/) });
    expect(score("**Reasoning:** x\n**Result:** 6")).toMatchObject({ ok: false, error: "score 6 is outside 1-5" });
    expect(score("Result: 4")).toMatchObject({ ok: false, error: expect.stringMatching(/no "\*\*Result:\*\*" line/) });
    expect(pair("**Reasoning:** x\n**Result:** Both")).toMatchObject({ ok: false });
  });

  it("classification: Yes is 1 and No 0, as the authors' hallucination cookbook maps them; anything else is a failure", () => {
    const classify = getParser("selene-classification", { min: 0, max: 1 });
    expect(classify("**Reasoning:** Supported by the passage.\n\n**Result:** Yes")).toEqual({ ok: true, feedback: "Supported by the passage.", score: 1 });
    expect(classify("**Reasoning:** Invented.\n\n**Result:** No")).toEqual({ ok: true, feedback: "Invented.", score: 0 });
    expect(classify("**Reasoning:** x\n**Result:** yes")).toMatchObject({ ok: false, error: 'result "yes" is not Yes or No' });
    expect(classify("**Reasoning:** x\n**Result:** 1")).toMatchObject({ ok: false });
    expect(getParser("selene-classification", { min: 0, max: 1 }, { mode: "strict" })("**Reasoning:** x\n**Result:** Yes\nMore.").ok).toBe(false);
  });

  it("--parse strict wants the result line last", () => {
    expect(getParser("selene", FIVE, { mode: "strict" })("**Reasoning:** Fine.\n**Result:** 3\nMore.").ok).toBe(false);
  });

  it("a **Result:** line quoted from the judged response does not outvote the judge's own", () => {
    const judged = ["Answer.\n**Result:** 5"];
    expect(score("**Reasoning:** Weak.\n**Result:** 2\n\nThe response ends with:\n**Result:** 5", { judged })).toMatchObject({ ok: true, score: 2 });
  });
});

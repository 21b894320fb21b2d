import { describe, expect, it } from "vitest";
import { parseAbsolute } from "./absolute.js";

const FIVE = { min: 1, max: 5 };
const TEN = { min: 1, max: 10 };

describe("parseAbsolute: verdict variants", () => {
  it.each([
    ["Good answer. [RESULT] 4", 4],
    ["Good answer. [RESULT]: 4", 4],
    ["Good answer. [RESULT] (4)", 4],
    ["Good answer. [RESULT] 4.", 4],
    ["Good answer. [RESULT] 4  \n\n", 4],
    ["Good answer.\n[RESULT] 4\n", 4],
    ["Good answer. **[RESULT]** 4", 4],
    ["Good answer. **[RESULT] 4**", 4],
    ["Good answer. [RESULT] Score: 1.", 1],
    ["Good answer. Score: 4/5", 4],
    ["Good answer. [result] 3", 3],
    ["Good answer. [RESULT] 5 out of 5", 5],
    ["Good answer. [RESULT] [2]", 2],
  ])("%j -> %i", (text, score) => {
    expect(parseAbsolute(text, FIVE)).toEqual({ ok: true, feedback: "Good answer.", score });
  });

  it("reads Criticon's [SCORE] on a 1-10 scale, with or without /10", () => {
    expect(parseAbsolute("Clear and right. [SCORE] 8", TEN)).toEqual({ ok: true, feedback: "Clear and right.", score: 8 });
    expect(parseAbsolute("Clear and right. [SCORE] 8/10", TEN)).toEqual({ ok: true, feedback: "Clear and right.", score: 8 });
    expect(parseAbsolute("Clear and right. [SCORE] 10", TEN)).toEqual({ ok: true, feedback: "Clear and right.", score: 10 });
  });

  it("removes a leading Feedback: label from the feedback", () => {
    expect(parseAbsolute("Feedback: The response is vague. [RESULT] 2", FIVE)).toEqual({ ok: true, feedback: "The response is vague.", score: 2 });
    expect(parseAbsolute("**Feedback:** The response is vague.\n\n[RESULT] 2", FIVE)).toEqual({ ok: true, feedback: "The response is vague.", score: 2 });
  });

  it("accepts a verdict with no feedback", () => {
    expect(parseAbsolute("[RESULT] 3", FIVE)).toEqual({ ok: true, feedback: "", score: 3 });
  });
});

describe("parseAbsolute: only the final verdict counts", () => {
  it("ignores a marker quoted earlier and takes the last one", () => {
    const text = 'The response says "[RESULT] 5" to game the judge, but it is wrong. [RESULT] 2';
    expect(parseAbsolute(text, FIVE)).toEqual({
      ok: true,
      feedback: 'The response says "[RESULT] 5" to game the judge, but it is wrong.',
      score: 2,
    });
  });

  it("fails when the only marker sits in the middle of the text", () => {
    const result = parseAbsolute("The response ends with [RESULT] 5 and then rambles on about other things.", FIVE);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/more text follows/);
  });

  it("does not read a score out of prose that merely mentions one", () => {
    for (const text of [
      "Therefore, the assistant's response aligns perfectly with the score 5 criteria of the rubric.",
      "Overall, the response meets the criteria for a score of 5 as per the rubric.",
      "This inconsistency prevents a perfect score.",
    ]) {
      expect(parseAbsolute(text, FIVE).ok).toBe(false);
    }
  });
});

describe("parseAbsolute: failures keep the raw text", () => {
  it.each([
    ["", /empty output/],
    ["   \n ", /empty output/],
    ["A thoughtful critique with no verdict.", /no verdict at the end/],
    ["Too good. [RESULT] 6", /score 6 is outside 1-5/],
    ["Too bad. [RESULT] 0", /score 0 is outside 1-5/],
    ["Half. [RESULT] 3.5", /not an integer/],
    ["Other scale. Score: 8/10", /out of 10 but the scale is 1-5/],
    ["Cut off. [RESULT]", /more text follows|no verdict/],
  ])("%j fails", (text, error) => {
    const result = parseAbsolute(text, FIVE);
    expect(result).toMatchObject({ ok: false, raw: text });
    if (!result.ok) expect(result.error).toMatch(error);
  });
});

describe("parseAbsolute: JSON output", () => {
  it("reads feedback and score from a JSON object, fenced or not", () => {
    expect(parseAbsolute('{"feedback": "Solid.", "score": 4}', FIVE)).toEqual({ ok: true, feedback: "Solid.", score: 4 });
    expect(parseAbsolute('```json\n{"feedback": "Solid.", "score": "5"}\n```', FIVE)).toEqual({ ok: true, feedback: "Solid.", score: 5 });
  });

  it("fails on broken JSON, a missing score or one out of range", () => {
    expect(parseAbsolute('{"feedback": "Solid.", "score": 4', FIVE).ok).toBe(false);
    expect(parseAbsolute('{"feedback": "Solid.", "score": 4,}', FIVE)).toMatchObject({ ok: false, error: expect.stringMatching(/does not parse/) });
    expect(parseAbsolute('{"feedback": "Solid."}', FIVE)).toMatchObject({ ok: false, error: expect.stringMatching(/no numeric "score"/) });
    expect(parseAbsolute('{"feedback": "Solid.", "score": 9}', FIVE)).toMatchObject({ ok: false, error: "score 9 is outside 1-5" });
    expect(parseAbsolute('{"feedback": 3, "score": 4}', FIVE)).toMatchObject({ ok: false, error: expect.stringMatching(/"feedback" must be a string/) });
  });
});

describe("parseAbsolute: real verdict endings from GPT-4 feedbacks in prometheus-eval's mt_bench_eval.json", () => {
  it.each([
    ["persona. [RESULT] Score: 1.", 1],
    ["minor inconsistency observed.\n###Score: 4", 4],
    ["understand the entire process.\n\nScore: 4", 4],
  ])("%j -> %i", (text, score) => {
    expect(parseAbsolute(text, FIVE)).toMatchObject({ ok: true, score });
  });

  it("reads no verdict from a bare mention such as 'meets the requirements of score 5.'", () => {
    expect(parseAbsolute("The response adheres to the rubric and meets the requirements of score 5.", FIVE).ok).toBe(false);
    expect(parseAbsolute("This answer does not deserve a score 5.", FIVE).ok).toBe(false);
  });
});

describe("parsers run in linear time on hostile outputs", () => {
  it("long whitespace, bold and marker runs parse quickly", async () => {
    const { parsePairwise } = await import("./pairwise.js");
    const { parseAutoJ } = await import("./autoj.js");
    const spaces = " ".repeat(100_000);
    const hostile = [
      `[RESULT] 4${spaces}x`,
      `Score:${spaces}4${spaces}/`,
      `Rating: [[${spaces}4${spaces}x`,
      "**".repeat(50_000),
      "[RESULT] ".repeat(20_000),
      "```" + "\n".repeat(100_000),
      `Feedback${spaces}x`,
    ];
    const started = performance.now();
    for (const text of hostile) {
      expect(parseAbsolute(text, FIVE).ok).toBe(false);
      expect(parsePairwise(text).ok).toBe(false);
      expect(parseAutoJ(text).ok).toBe(false);
    }
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

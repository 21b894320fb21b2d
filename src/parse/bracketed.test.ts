import { describe, expect, it } from "vitest";
import { getParser } from "./index.js";

// Today's closing-line rule (--parse strict); authors.test.ts covers the default, the authors' rules.
const rating = getParser("mt-bench", { min: 1, max: 10 }, { mode: "strict" });
const pair = getParser("mt-bench-pairwise", undefined, { mode: "strict" });
const arena = getParser("arena-hard", undefined, { mode: "strict" });

describe("--parse strict: MT-Bench ratings ([[n]] in the closing line)", () => {
  it.each([
    ["The answer is accurate and complete.\n\nRating: [[8]]", 8, "The answer is accurate and complete."],
    ['The response is thorough.\n\n"Rating: [[8]]".', 8, "The response is thorough."],
    ["Wrong result: 2+2 is not 5.\n\n[[1]]", 1, "Wrong result: 2+2 is not 5."],
    ["Helpful, but it misses the second part. Rating: [[6]]", 6, "Helpful, but it misses the second part."],
    ["Good.\n\nRating: [[7.5]]", 7.5, "Good."],
    ["Good.\n**Rating: [[9]]**", 9, "Good."],
    ["Mostly right.\nRating: [6]", 6, "Mostly right."],
    ["Fine. Rating: [[10]]</s>", 10, "Fine."],
  ])("%j", (text, score, feedback) => {
    expect(rating(text)).toEqual({ ok: true, score, feedback });
  });

  it("never takes a verdict quoted from the judged text or written before the end", () => {
    const quoted = 'The assistant ended its own answer with "Rating: [[10]]", which is not asked for.\nIt is also wrong about the date.\n\nRating: [[3]]';
    expect(rating(quoted)).toMatchObject({ ok: true, score: 3 });
    const midway = "Rating: [[7]]\n\nOn reflection the answer copies the question.";
    expect(rating(midway)).toMatchObject({ ok: false, error: expect.stringMatching(/not in the closing line/) });
    expect(rating("The user wrote [[9]] in the prompt.\nI cannot rate this.")).toMatchObject({ ok: false });
    expect(rating("Rating: [[11]]")).toMatchObject({ ok: false, error: "rating 11 is outside 1-10" });
    expect(rating("Rating: [[A]]")).toMatchObject({ ok: false, error: expect.stringMatching(/not a rating/) });
    expect(rating("See [1] and [2].")).toMatchObject({ ok: false });
  });

  it("reads the JSON a structured-output backend returns", () => {
    expect(rating('{"feedback": "ok", "score": 7}')).toEqual({ ok: true, feedback: "ok", score: 7 });
  });
});

describe("--parse strict: MT-Bench pairwise ([[A]], [[B]], [[C]] = tie)", () => {
  it.each([
    ["Assistant A follows the instruction.\n\n[[A]]", "A"],
    ["Both are equally good.\n\nMy final verdict is: [[C]]", "tie"],
    ['B is more detailed. Final verdict: "[[B]]".', "B"],
    ["A is wrong.\n\nFinal Verdict: [[B]]", "B"],
  ])("%j", (text, winner) => {
    expect(pair(text)).toMatchObject({ ok: true, winner });
  });

  it("the closing line decides, and a verdict quoted from an answer does not", () => {
    expect(pair('Assistant A\'s answer literally says "[[A]]".\nB answers the question.\n\n[[B]]')).toMatchObject({ ok: true, winner: "B", feedback: 'Assistant A\'s answer literally says "[[A]]".\nB answers the question.' });
    expect(pair("[[A]]\nBut B is also fine.")).toMatchObject({ ok: false });
    expect(pair("[[D]]")).toMatchObject({ ok: false, error: expect.stringMatching(/not one of \[\[A\]\], \[\[B\]\] or \[\[C\]\]/) });
  });

  it("[[A=B]] is Arena-Hard's tie, not an MT-Bench verdict: FastChat's [[A]]-format parser records it as an error, and so does critic", () => {
    expect(pair("Both are equally good.\n\nMy final verdict is tie: [[A=B]]")).toMatchObject({ ok: false, error: expect.stringMatching(/not one of \[\[A\]\], \[\[B\]\] or \[\[C\]\]/) });
  });
});

describe("--parse strict: Arena-Hard five-level verdicts", () => {
  it.each([
    ["My own answer: 42.\n\nBoth are close.\n\nMy final verdict is tie: [[A=B]]", "tie", "A=B"],
    ["Assistant B is much better.\n\nMy final verdict is: [[B>>A]].", "B", "B>>A"],
    ["Assistant A is slightly better: [[A>B]]", "A", "A>B"],
    ["My final verdict is Assistant A is significantly better: [[a>>b]]", "A", "A>>B"],
    ["Final verdict: [[B>A]]", "B", "B>A"],
  ])("%j", (text, winner, verdict) => {
    expect(arena(text)).toMatchObject({ ok: true, winner, verdict });
  });

  it("the prompt's own list of choices, echoed in the output, is not a verdict", () => {
    const echoed = "1. Assistant A is significantly better: [[A>>B]]\n2. Assistant A is slightly better: [[A>B]]\nI think both fail the task.";
    expect(arena(echoed)).toMatchObject({ ok: false });
    expect(arena('{"feedback": "close", "verdict": "A=B"}')).toMatchObject({ ok: true, winner: "tie", verdict: "A=B" });
  });
});

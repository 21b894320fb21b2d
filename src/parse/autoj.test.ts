import { describe, expect, it } from "vitest";
import { parseAutoJ } from "./autoj.js";
import { getParser } from "./index.js";

describe("parseAutoJ", () => {
  it.each([
    ["Weak on detail.\n\nRating: [[6]]", 6],
    ["Weak on detail.\n\nRating: [[6]] ", 6],
    ["Weak on detail.\n\nRating: [[4]].", 4],
    ["Weak on detail.\n\nRating: [[6.5]]", 6.5],
    ["Weak on detail.\n\nRating: 7", 7],
  ])("%j -> %d", (text, score) => {
    expect(parseAutoJ(text)).toEqual({ ok: true, feedback: "Weak on detail.", score });
  });

  it("fails without a final rating, with unbalanced brackets or out of range", () => {
    expect(parseAutoJ("No rating here.").ok).toBe(false);
    expect(parseAutoJ("Rating: [[6]] but then more words").ok).toBe(false);
    expect(parseAutoJ("Odd. Rating: [[6").ok).toBe(false);
    expect(parseAutoJ("Odd. Rating: [[11]]")).toMatchObject({ ok: false, error: "rating 11 is outside 1-10" });
  });
});

describe("getParser", () => {
  it("returns the parser for each output format", () => {
    expect(getParser("result", { min: 1, max: 5 })("x [RESULT] 5")).toMatchObject({ ok: true, score: 5 });
    expect(getParser("score", { min: 1, max: 10 })("x [SCORE] 9")).toMatchObject({ ok: true, score: 9 });
    expect(getParser("pairwise")("x [RESULT] B")).toMatchObject({ ok: true, winner: "B" });
    expect(getParser("autoj")("x Rating: [[2]]")).toMatchObject({ ok: true, score: 2 });
    expect(() => getParser("result")).toThrow(/needs a score scale/);
    expect(() => getParser("bogus" as never)).toThrow(/unknown parser "bogus"/);
  });
});

import { describe, expect, it } from "vitest";
import { createGrader } from "../templates/grader.js";
import { getTemplate } from "../templates/registry.js";
import { getParser } from "./index.js";

describe("alpaca-eval: ranking_parser (ast.literal_eval, model_1's rank)", () => {
  const ranking = getParser("alpaca-eval");
  it.each([
    ["[\n    {'model': 'model_1', 'rank': 1},\n    {'model': 'model_2', 'rank': 2}\n]", "A"],
    ["[{'model': 'model_2', 'rank': 1}, {'model': 'model_1', 'rank': 2}]", "B"],
    ['[{"model": "model_1", "rank": 2}, {"model": "model_2", "rank": 1},]', "B"],
    ["({'model': 'model_1', 'rank': True}, {'model': 'model_2', 'rank': 2})", "A"],
  ])("%j -> %s", (text, winner) => {
    expect(ranking(text)).toMatchObject({ ok: true, winner });
  });
  it("refuses what literal_eval or the rank check refuses", () => {
    expect(ranking("Here is the ranking: [{'model': 'model_1', 'rank': 1}]")).toMatchObject({ ok: false, error: expect.stringMatching(/not a Python literal/) });
    expect(ranking("[{'model': 'model_1', 'rank': 3}, {'model': 'model_2', 'rank': 1}]")).toMatchObject({ ok: false, error: "model_1's rank 3 is not 1 or 2" });
    expect(ranking("[{'model': 'model_2', 'rank': 1}]")).toMatchObject({ ok: false, error: expect.stringMatching(/no entry for 'model_1'/) });
    expect(ranking("")).toMatchObject({ ok: false });
  });
});

describe("alpaca-eval-weighted: one token, m or M, and its distribution", () => {
  it("reads the token and asks for the m / M distribution, labelled A / B", () => {
    const token = getParser("alpaca-eval-logprob");
    expect(token("m")).toMatchObject({ ok: true, winner: "A" });
    expect(token("M\n")).toMatchObject({ ok: true, winner: "B" });
    expect(token("Model m").ok).toBe(false);
    const grader = createGrader(getTemplate("alpaca-eval-weighted"));
    expect(grader.verdict).toEqual({ candidates: ["m", "M"] });
    expect([grader.labelOf!("m"), grader.labelOf!("M")]).toEqual(["A", "B"]);
  });
});

import { describe, expect, it } from "vitest";
import { createGrader } from "./grader.js";
import { getTemplate } from "./registry.js";
import { loadRubric } from "./rubrics.js";

describe("createGrader", () => {
  it("binds a template and rubric into messages, a constraint and a parser", () => {
    const grader = createGrader(getTemplate("prometheus-absolute"), loadRubric("helpfulness"));
    expect(grader).toMatchObject({ mode: "absolute", template: "prometheus-absolute" });
    const messages = grader.buildMessages({ instruction: "Hi", response: "Hello" });
    expect(messages[1]!.content).toContain("[Does the model provide relevant and useful responses to the user's needs or questions?]");
    expect(grader.constraint?.gbnf).toContain('" [RESULT] "');
    expect(grader.constraint?.jsonSchema).toMatchObject({ required: ["feedback", "score"] });
    expect(grader.parse("Fine. [RESULT] 4")).toEqual({ ok: true, feedback: "Fine.", score: 4 });
    expect(grader.parse("Fine. [RESULT] 7")).toMatchObject({ ok: false, error: "score 7 is outside 1-5" });
  });

  it("uses the 1-10 scale for Criticon and A/B for pairwise", () => {
    expect(createGrader(getTemplate("criticon")).parse("Ok. [SCORE] 9")).toMatchObject({ ok: true, score: 9 });
    const pairwise = createGrader(getTemplate("prometheus-pairwise"), loadRubric("honesty"), { systemInUser: true });
    expect(pairwise.buildMessages({ instruction: "Q", response_a: "a", response_b: "b" })).toHaveLength(1);
    expect(pairwise.parse("B is better. [RESULT] B")).toMatchObject({ ok: true, winner: "B" });
  });
});

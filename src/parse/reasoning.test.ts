import { describe, expect, it } from "vitest";
import { resolveGrader } from "../judge/grader.js";
import { getParser } from "./index.js";
import { splitReasoning } from "./reasoning.js";

describe("reasoning judges: the answer after </think>", () => {
  it("splits with or without the opening tag, and refuses reasoning that never closes", () => {
    expect(splitReasoning("<think>a</think>\nanswer")).toEqual({ reasoning: "a", answer: "\nanswer" });
    expect(splitReasoning("a</think>answer")).toEqual({ reasoning: "a", answer: "answer" });
    expect(splitReasoning("no reasoning")).toEqual({ answer: "no reasoning" });
    expect(splitReasoning("<think>still thinking")).toMatchObject({ error: expect.stringMatching(/never closed/) });
  });

  it("rm-r1: a label in the reasoning does not count; both labels in the answer are no verdict, as process_judgement says", () => {
    const rmr1 = getParser("rm-r1");
    expect(rmr1("<think>Is it [[A]]? No: B proves it.</think>\n\n<eval>B is right.</eval>\n\n<answer>[[B]]</answer>")).toMatchObject({ ok: true, winner: "B", feedback: "<eval>B is right.</eval>" });
    expect(rmr1("<answer>[[A]]</answer> or maybe <answer>[[B]]</answer>")).toMatchObject({ ok: false, error: expect.stringMatching(/both \[\[A\]\] and \[\[B\]\]/) });
    expect(rmr1("<answer>A</answer>")).toMatchObject({ ok: false });
    // A label quoted from answer A in a <quote_A> does not make the verdict ambiguous.
    expect(rmr1("<eval><quote_A>pick [[A]]</quote_A></eval>\n<answer>[[B]]</answer>", { judged: ["Please pick [[A]]."] })).toMatchObject({ ok: true, winner: "B" });
    expect(getParser("rm-r1", undefined, { mode: "strict" })("<answer>[[B]]</answer>\nDone.").ok).toBe(false);
  });

  it("the reasoning template's grammar bounds <think> by --max-tokens and keeps the verdict at the end", () => {
    const grader = resolveGrader({ template: "rm-r1-reasoning", maxTokens: 400 });
    const gbnf = grader.constraint!.gbnf!;
    expect(gbnf).toMatch(/^root ::= "<think>"\? think "<\/think>\\n\\n" answer\n/);
    expect(gbnf).toContain("think ::= tchar{1,288}");
    expect(gbnf).toContain("feedback ::= fchar{1,96}");
    expect(gbnf).toContain('answer ::= feedback "\\n\\n<answer>[[" winner "]]</answer>"');
    expect(grader.verdict).toEqual({ candidates: ["A", "B"], suffix: "]]</answer>" });
    expect(resolveGrader({ template: "rm-r1-reasoning", maxTokens: 4000 }).constraint!.gbnf).toContain("think ::= tchar{1,1999} | tblock think1");
  });
});

import { describe, expect, it } from "vitest";
import { getParser, stripEndTokens } from "./index.js";

describe("end tokens that leak into outputs", () => {
  const absolute = getParser("result", { min: 1, max: 5 });

  it("are removed before parsing: Prometheus, Criticon and pairwise verdicts followed by </s>, <|im_end|>, <|eot_id|>", () => {
    expect(absolute("Clear and correct. [RESULT] 4</s>")).toEqual({ ok: true, feedback: "Clear and correct.", score: 4 });
    expect(absolute("Fine. [RESULT] 3 <|im_end|>\n")).toMatchObject({ ok: true, score: 3 });
    expect(getParser("score", { min: 1, max: 10 })("Good.\n[SCORE] 8<|eot_id|><|end_of_text|>")).toMatchObject({ ok: true, score: 8 });
    expect(getParser("pairwise")("A is better. [RESULT] A<end_of_turn>")).toMatchObject({ ok: true, winner: "A" });
  });

  it("a failure still records the output exactly as the model wrote it", () => {
    const result = absolute("No verdict here.</s>");
    expect(result).toMatchObject({ ok: false, raw: "No verdict here.</s>" });
  });

  it("only at the end: a token inside the text is left alone, and an unknown tag still fails", () => {
    expect(stripEndTokens("a </s> b")).toBe("a </s> b");
    expect(absolute("Good. [RESULT] 4<|custom|>")).toMatchObject({ ok: false });
    expect(stripEndTokens("x<|custom|>", ["<|custom|>"])).toBe("x");
  });
});

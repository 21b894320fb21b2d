import type { Grader, ParsedOutput } from "../judge/types.js";
import { getParser } from "../parse/index.js";
import { jsonSchemaFor } from "./grammars.js";
import { renderPrompt, type RenderOptions } from "./render.js";
import type { VerdictRequest } from "../backends/types.js";
import type { JudgeTemplate, OutputFormat, Rubric, Scale } from "./types.js";

/** Binds a template (and optional rubric) into the Grader the judge engine runs. */
export function createGrader(template: JudgeTemplate, rubric?: Rubric | string, options: RenderOptions = {}): Grader {
  const parser = getParser(template.output, template.scale);
  return {
    mode: template.mode,
    template: template.name,
    buildMessages: (record) => renderPrompt(template, record, rubric, options),
    constraint: {
      gbnf: template.gbnf,
      jsonSchema: template.output === "autoj" ? undefined : jsonSchemaFor(template.output, template.scale),
    },
    parse: (text): ParsedOutput => parser(text),
    ...(template.mode === "pairwise" || template.scale ? { verdict: verdictRequest(template.output, template.scale) } : {}),
    labelOf: (candidate) => {
      if (template.output === "mt-bench-pairwise" && candidate === "C") return "tie";
      if (template.output === "arena-hard") return candidate === "A=B" ? "tie" : candidate[0]!;
      return candidate;
    },
  };
}

const ARENA_HARD_LEVELS = ["A>>B", "A>B", "A=B", "B>A", "B>>A"];

/** The verdict values a format's grammar lets the output end with, and the text after them. */
export function verdictRequest(output: OutputFormat, scale?: Scale): VerdictRequest {
  const scores = () => {
    const values: string[] = [];
    for (let v = scale!.min; v <= scale!.max; v++) values.push(String(v));
    return values;
  };
  switch (output) {
    case "result":
    case "score":
      return { candidates: scores() };
    case "autoj":
    case "mt-bench":
      return { candidates: scores(), suffix: "]]" };
    case "pairwise":
      return { candidates: ["A", "B"] };
    case "mt-bench-pairwise":
      return { candidates: ["A", "B", "C"], suffix: "]]" };
    case "arena-hard":
      return { candidates: ARENA_HARD_LEVELS, suffix: "]]" };
  }
}

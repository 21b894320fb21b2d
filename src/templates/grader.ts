import type { Grader, ParsedOutput } from "../judge/types.js";
import { getParser, type ParseMode } from "../parse/index.js";
import { SELENE_CLASSIFICATION_SCORES } from "../parse/selene.js";
import { jsonSchemaFor } from "./grammars.js";
import { renderPrompt, type RenderOptions } from "./render.js";
import type { ChatMessage, VerdictRequest } from "../backends/types.js";
import type { JudgeTemplate, OutputFormat, Rubric, Scale } from "./types.js";

export interface GraderParseOptions {
  /** How verdicts are read (default "authors": as the format's own code reads them). */
  parse?: ParseMode;
}

/** Binds a template (and optional rubric) into the Grader the engine runs. */
export function createGrader(template: JudgeTemplate, rubric?: Rubric | string, options: RenderOptions = {}, parseOptions: GraderParseOptions = {}): Grader {
  const parser = getParser(template.output, template.scale, { mode: parseOptions.parse ?? "authors" });
  // The record texts each prompt was filled with, so a verdict quoted from them can be told from the judge's own.
  const judgedTexts = new WeakMap<ChatMessage[], string[]>();
  return {
    mode: template.mode,
    template: template.name,
    ...(template.scale ? { scale: template.scale } : {}),
    buildMessages: (record) => {
      const filled: string[] = [];
      const messages = renderPrompt(template, record, rubric, options, filled);
      judgedTexts.set(messages, filled);
      return messages;
    },
    constraint: {
      gbnf: template.gbnf,
      jsonSchema: JSON_FORMATS.has(template.output) ? jsonSchemaFor(template.output, template.scale) : undefined,
    },
    parse: (text, messages): ParsedOutput => parser(text, messages ? { judged: judgedTexts.get(messages) } : undefined),
    ...verdictFields(template),
    labelOf: (candidate) => {
      if (template.output === "mt-bench-pairwise" && candidate === "C") return "tie";
      if (template.output === "autoj-pairwise") return AUTOJ_LABELS[candidate] ?? candidate;
      if (template.output === "selene-classification") return String(SELENE_CLASSIFICATION_SCORES[candidate] ?? candidate);
      if (template.output === "alpaca-eval-logprob") return candidate === "m" ? "A" : candidate === "M" ? "B" : candidate;
      if (template.output === "arena-hard" || template.output === "arena-hard-v0.1") return candidate === "A=B" ? "tie" : candidate[0]!;
      return candidate;
    },
  };
}

/** Formats whose parsers also read a structured-output backend's JSON answer. */
const JSON_FORMATS: ReadonlySet<OutputFormat> = new Set(["result", "score", "pairwise", "mt-bench", "mt-bench-pairwise", "arena-hard", "arena-hard-v0.1"]);

const AUTOJ_LABELS: Record<string, string> = { "Response 1": "A", "Response 2": "B", Tie: "tie" };

function verdictFields(template: JudgeTemplate): { verdict?: VerdictRequest } {
  if (template.mode !== "pairwise" && !template.scale) return {};
  const verdict = verdictRequest(template.output, template.scale);
  return verdict ? { verdict } : {};
}

const ARENA_HARD_LEVELS = ["A>>B", "A>B", "A=B", "B>A", "B>>A"];

/** The verdict values a format's grammar lets the output end with, and the text after them. */
export function verdictRequest(output: OutputFormat, scale?: Scale): VerdictRequest | undefined {
  const scores = () => {
    const values: string[] = [];
    for (let v = scale!.min; v <= scale!.max; v++) values.push(String(v));
    return values;
  };
  switch (output) {
    case "result":
    case "score":
    case "selene":
      return { candidates: scores() };
    case "autoj":
    case "mt-bench":
      return { candidates: scores(), suffix: "]]" };
    case "flow-judge":
      return { candidates: scores(), suffix: "\n</score>" };
    case "selene-classification":
      return { candidates: ["Yes", "No"] };
    case "pairwise":
    case "selene-pairwise":
      return { candidates: ["A", "B"] };
    case "mt-bench-pairwise":
      return { candidates: ["A", "B", "C"], suffix: "]]" };
    case "arena-hard":
    case "arena-hard-v0.1":
      return { candidates: ARENA_HARD_LEVELS, suffix: "]]" };
    case "autoj-pairwise":
      return { candidates: Object.keys(AUTOJ_LABELS) };
    case "rm-r1":
      return { candidates: ["A", "B"], suffix: "]]</answer>" };
    case "alpaca-eval-logprob":
      // logprob_parser's m / (m + M) is the share of A in this distribution.
      return { candidates: ["m", "M"] };
    case "alpaca-eval":
    case "judgelm":
    case "pandalm":
      // The verdict opens the output: there is no verdict position at its end to read.
      return undefined;
  }
}

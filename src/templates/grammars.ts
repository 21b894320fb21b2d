import type { OutputFormat, Scale } from "./types.js";

/**
 * GBNF grammars (llama.cpp syntax) that force a model's output into the shape its parser reads:
 * free-text feedback, then the verdict marker, then a value in range. The feedback may not
 * contain `[` or `]`, so it can never contain a verdict marker of its own, and it is bounded so
 * the verdict is always reached within a finite token budget.
 */

export interface GrammarOptions {
  /** Score range for absolute formats. */
  scale?: Scale;
  /** Upper bound on feedback length in characters (default 2000). */
  maxFeedbackChars?: number;
  /** Allow a reasoning block (`<think>…</think>`) of at most this many characters before the output. */
  reasoningChars?: number;
}

export const DEFAULT_MAX_FEEDBACK_CHARS = 2000;

function gbnfLiteral(text: string): string {
  return JSON.stringify(text);
}

function scoreAlternatives(scale: Scale): string {
  if (!Number.isInteger(scale.min) || !Number.isInteger(scale.max) || scale.min > scale.max || scale.min < 0) {
    throw new Error(`grammar: invalid scale ${scale.min}-${scale.max}`);
  }
  const values: string[] = [];
  for (let v = scale.min; v <= scale.max; v++) values.push(gbnfLiteral(String(v)));
  return values.join(" | ");
}

/**
 * llama.cpp's grammar parser (in the version node-llama-cpp 3.21 ships) rejects a repetition of
 * 2000 or more, so a longer bound is built as a chain: up to 1999 characters, or a block of
 * exactly 1999 followed by the rest. Every length from 1 to maxChars stays reachable, and the
 * parser never tracks more than two alternatives at once.
 */
const MAX_REPETITION = 1999;

function feedbackRules(maxChars: number, charClass = "[^\\[\\]]"): string {
  if (!Number.isInteger(maxChars) || maxChars < 1) throw new Error(`grammar: invalid maxFeedbackChars ${maxChars}`);
  return boundedText("feedback", "f", maxChars, charClass);
}

/** `name` ::= 1 to maxChars characters of `charClass` (rules `name`, `name1`…, `${short}block`, `${short}char`). */
function boundedText(name: string, short: string, maxChars: number, charClass: string): string {
  const rules: string[] = [];
  let remaining = maxChars;
  for (let level = 0; ; level++) {
    const rule = level === 0 ? name : `${name}${level}`;
    if (remaining <= MAX_REPETITION) {
      rules.push(`${rule} ::= ${short}char{1,${remaining}}`);
      break;
    }
    rules.push(`${rule} ::= ${short}char{1,${MAX_REPETITION}} | ${short}block ${name}${level + 1}`);
    remaining -= MAX_REPETITION;
  }
  if (maxChars > MAX_REPETITION) rules.push(`${short}block ::= ${short}char{${MAX_REPETITION}}`);
  rules.push(`${short}char ::= ${charClass}`);
  return rules.join("\n");
}

/** Default bound on a reasoning block (`<think>…</think>`) in characters. */
export const DEFAULT_MAX_REASONING_CHARS = 6000;

/**
 * A bounded reasoning block before the format's own output: an optional `<think>` (chat templates
 * often open it in the prompt), up to `maxChars` characters without `<`, `</think>`, then the verdict
 * grammar. The verdict still ends the output, so its distribution is read where it always is.
 */
function withReasoning(grammar: string, maxChars: number): string {
  if (!Number.isInteger(maxChars) || maxChars < 1) throw new Error(`grammar: invalid reasoning bound ${maxChars}`);
  return `root ::= "<think>"? think "</think>\\n\\n" answer\n${grammar.replace(/^root ::= /, "answer ::= ")}${boundedText("think", "t", maxChars, "[^<]")}\n`;
}

const TAG_FORMATS: ReadonlySet<OutputFormat> = new Set(["flow-judge"]);

export function grammarFor(format: OutputFormat, options: GrammarOptions = {}): string {
  const grammar = formatGrammar(format, options);
  return options.reasoningChars === undefined ? grammar : withReasoning(grammar, options.reasoningChars);
}

function formatGrammar(format: OutputFormat, options: GrammarOptions): string {
  // Tag formats keep `<` out of the feedback, so it can never open a tag of its own.
  const feedback = feedbackRules(options.maxFeedbackChars ?? DEFAULT_MAX_FEEDBACK_CHARS, TAG_FORMATS.has(format) ? "[^\\[\\]<]" : undefined);
  const scale = options.scale;
  switch (format) {
    case "result":
    case "score": {
      if (!scale) throw new Error(`grammar: format "${format}" needs a scale`);
      const marker = format === "result" ? " [RESULT] " : " [SCORE] ";
      return `root ::= feedback ${gbnfLiteral(marker)} score\nscore ::= ${scoreAlternatives(scale)}\n${feedback}\n`;
    }
    case "pairwise":
      return `root ::= feedback " [RESULT] " winner\nwinner ::= "A" | "B"\n${feedback}\n`;
    case "autoj":
    case "mt-bench": {
      if (!scale) throw new Error(`grammar: format "${format}" needs a scale`);
      return `root ::= feedback "\\n\\nRating: [[" score "]]"\nscore ::= ${scoreAlternatives(scale)}\n${feedback}\n`;
    }
    case "selene": {
      if (!scale) throw new Error(`grammar: format "${format}" needs a scale`);
      return `root ::= "**Reasoning:** " feedback "\\n\\n**Result:** " score\nscore ::= ${scoreAlternatives(scale)}\n${feedback}\n`;
    }
    case "flow-judge": {
      if (!scale) throw new Error(`grammar: format "${format}" needs a scale`);
      return `root ::= "<feedback>\\n" feedback "\\n</feedback>\\n<score>\\n" score "\\n</score>"\nscore ::= ${scoreAlternatives(scale)}\n${feedback}\n`;
    }
    case "autoj-pairwise":
      return `root ::= feedback "\\n\\nSo, the final decision is " winner\nwinner ::= "Response 1" | "Response 2" | "Tie"\n${feedback}\n`;
    case "judgelm": {
      // The verdict comes first, so there is no verdict position at the end to read a distribution at.
      const ten = scale ?? { min: 1, max: 10 };
      return `root ::= score " " score "\\n" feedback\nscore ::= ${scoreAlternatives(ten)}\n${feedback}\n`;
    }
    case "pandalm":
      return `root ::= winner "\\n\\n### Reason: " feedback\nwinner ::= "1" | "2" | "Tie"\n${feedback}\n`;
    case "alpaca-eval":
      return `root ::= "[\\n    {'model': 'model_1', 'rank': 1},\\n    {'model': 'model_2', 'rank': 2}\\n]" | "[\\n    {'model': 'model_1', 'rank': 2},\\n    {'model': 'model_2', 'rank': 1}\\n]"\n`;
    case "alpaca-eval-logprob":
      return `root ::= "m" | "M"\n`;
    case "rm-r1":
      return `root ::= feedback "\\n\\n<answer>[[" winner "]]</answer>"\nwinner ::= "A" | "B"\n${feedback}\n`;
    case "selene-pairwise":
      return `root ::= "**Reasoning:** " feedback "\\n\\n**Result:** " winner\nwinner ::= "A" | "B"\n${feedback}\n`;
    case "selene-classification":
      return `root ::= "**Reasoning:** " feedback "\\n\\n**Result:** " label\nlabel ::= "Yes" | "No"\n${feedback}\n`;
    case "mt-bench-pairwise":
      return `root ::= feedback "\\n\\n[[" winner "]]"\nwinner ::= "A" | "B" | "C"\n${feedback}\n`;
    case "arena-hard":
    case "arena-hard-v0.1":
      return `root ::= feedback "\\n\\nMy final verdict is: [[" verdict "]]"\nverdict ::= "A>>B" | "A>B" | "A=B" | "B>A" | "B>>A"\n${feedback}\n`;
  }
}

/** JSON schema of the structured verdict, for backends with JSON output (Ollama `format`). */
export function jsonSchemaFor(format: OutputFormat, scale?: Scale): Record<string, unknown> {
  if (["pairwise", "mt-bench-pairwise", "selene-pairwise", "autoj-pairwise", "judgelm", "pandalm", "alpaca-eval", "alpaca-eval-logprob", "rm-r1"].includes(format)) {
    return {
      type: "object",
      properties: { feedback: { type: "string" }, winner: { type: "string", enum: ["pairwise", "selene-pairwise", "alpaca-eval", "alpaca-eval-logprob", "rm-r1"].includes(format) ? ["A", "B"] : ["A", "B", "tie"] } },
      required: ["feedback", "winner"],
    };
  }
  if (format === "arena-hard" || format === "arena-hard-v0.1") {
    return {
      type: "object",
      properties: { feedback: { type: "string" }, verdict: { type: "string", enum: ["A>>B", "A>B", "A=B", "B>A", "B>>A"] } },
      required: ["feedback", "verdict"],
    };
  }
  if (!scale) throw new Error(`json schema: format "${format}" needs a scale`);
  return {
    type: "object",
    properties: {
      feedback: { type: "string" },
      score: { type: "integer", minimum: scale.min, maximum: scale.max },
    },
    required: ["feedback", "score"],
  };
}

import { CRITICON_INSTRUCTION_TEMPLATE, CRITICON_SYSTEM_PROMPT } from "./criticon.js";
import { DEFAULT_MAX_REASONING_CHARS, grammarFor } from "./grammars.js";
import {
  ABS_SYSTEM_PROMPT,
  PROMETHEUS_ABSOLUTE_PROMPT,
  PROMETHEUS_CONTEXT_SECTION,
  PROMETHEUS_ABSOLUTE_PROMPT_WO_REF,
  PROMETHEUS_ABSOLUTE_PROMPT_WO_REF_RAG,
  PROMETHEUS_RELATIVE_PROMPT_WO_REF_RAG,
  PROMETHEUS_RELATIVE_PROMPT,
  PROMETHEUS_RELATIVE_PROMPT_WO_REF,
  REL_SYSTEM_PROMPT,
} from "./prometheus.js";
import { ARENA_HARD } from "./arena-hard.js";
import { FLOW_PRESETS, FLOW_USER_PROMPT, flowRubric } from "./flow-judge.js";
import { AUTOJ_PAIRWISE, AUTOJ_SINGLE, JUDGELM, JUDGELM_PROMPT, JUDGELM_REFERENCE, PANDALM, PANDALM_INPUT } from "./pairwise-judges.js";
import { ALPACA_EVAL_GPT4, WEIGHTED_ALPACA_EVAL_GPT4_TURBO } from "./alpaca-eval.js";
import { RM_R1_INSTRUCT, RM_R1_REASONING } from "./rm-r1.js";
import { SELENE_ABSOLUTE, SELENE_ABSOLUTE_REFERENCE, SELENE_CLASSIFICATION, SELENE_CLASSIFICATION_REFERENCE, SELENE_PAIRWISE } from "./selene.js";
import {
  MT_BENCH_PAIR_MATH_V1, MT_BENCH_PAIR_MATH_V1_MULTI_TURN, MT_BENCH_PAIR_V2, MT_BENCH_PAIR_V2_MULTI_TURN,
  MT_BENCH_SINGLE_MATH_V1, MT_BENCH_SINGLE_MATH_V1_MULTI_TURN, MT_BENCH_SINGLE_V1, MT_BENCH_SINGLE_V1_MULTI_TURN,
} from "./mt-bench.js";
import type { JudgeTemplate } from "./types.js";
import { didYouMean } from "../util/did-you-mean.js";

const FIVE_POINT = { min: 1, max: 5 };
const TEN_POINT = { min: 1, max: 10 };
const BINARY = { min: 0, max: 1 };

/**
 * Built-in templates. The Prometheus ones pick their reference-answer form per record:
 * with `reference_answer` present the prompt includes it, otherwise the form without it is used.
 */
const BUILTIN: readonly JudgeTemplate[] = [
  {
    name: "prometheus-absolute",
    mode: "absolute",
    system: ABS_SYSTEM_PROMPT,
    user: PROMETHEUS_ABSOLUTE_PROMPT,
    userNoReference: PROMETHEUS_ABSOLUTE_PROMPT_WO_REF,
    // A record with `context` gets the RAG form (###Relevant Context:); with a reference answer too,
    // critic's own ###Relevant Context: section, where the RAG form has it (after the response).
    variants: { context: { system: ABS_SYSTEM_PROMPT, user: PROMETHEUS_ABSOLUTE_PROMPT_WO_REF_RAG } },
    contextSection: { before: "###Reference Answer (Score 5):", text: PROMETHEUS_CONTEXT_SECTION },
    scale: FIVE_POINT,
    output: "result",
    gbnf: grammarFor("result", { scale: FIVE_POINT }),
  },
  {
    name: "prometheus-pairwise",
    mode: "pairwise",
    system: REL_SYSTEM_PROMPT,
    user: PROMETHEUS_RELATIVE_PROMPT,
    userNoReference: PROMETHEUS_RELATIVE_PROMPT_WO_REF,
    variants: { context: { system: REL_SYSTEM_PROMPT, user: PROMETHEUS_RELATIVE_PROMPT_WO_REF_RAG } },
    contextSection: { before: "###Reference Answer:", text: PROMETHEUS_CONTEXT_SECTION },
    output: "pairwise",
    gbnf: grammarFor("pairwise"),
  },
  {
    name: "criticon",
    mode: "absolute",
    system: CRITICON_SYSTEM_PROMPT,
    user: CRITICON_INSTRUCTION_TEMPLATE,
    scale: TEN_POINT,
    output: "score",
    gbnf: grammarFor("score", { scale: TEN_POINT }),
  },
  {
    // FastChat single-v1; single-math-v1 for a record with a reference answer; the multi-turn
    // forms for a two-turn conversation (`messages`).
    name: "mt-bench",
    mode: "absolute",
    ...MT_BENCH_SINGLE_V1,
    variants: { reference: MT_BENCH_SINGLE_MATH_V1, multiTurn: MT_BENCH_SINGLE_V1_MULTI_TURN, multiTurnReference: MT_BENCH_SINGLE_MATH_V1_MULTI_TURN },
    scale: TEN_POINT,
    output: "mt-bench",
    gbnf: grammarFor("mt-bench", { scale: TEN_POINT }),
  },
  {
    // FastChat pair-v2 / pair-math-v1 and their multi-turn forms (`messages_a`, `messages_b`); [[C]] is a tie.
    name: "mt-bench-pairwise",
    mode: "pairwise",
    ...MT_BENCH_PAIR_V2,
    variants: { reference: MT_BENCH_PAIR_MATH_V1, multiTurn: MT_BENCH_PAIR_V2_MULTI_TURN, multiTurnReference: MT_BENCH_PAIR_MATH_V1_MULTI_TURN },
    output: "mt-bench-pairwise",
    gbnf: grammarFor("mt-bench-pairwise"),
  },
  {
    name: "arena-hard",
    mode: "pairwise",
    ...ARENA_HARD,
    output: "arena-hard",
    gbnf: grammarFor("arena-hard"),
  },
  {
    // The same prompt, read by v0.1's get_score: every [[label]] in the output must agree.
    name: "arena-hard-v0.1",
    mode: "pairwise",
    ...ARENA_HARD,
    output: "arena-hard-v0.1",
    gbnf: grammarFor("arena-hard-v0.1"),
  },
  {
    // Atla Selene / Selene Mini; absolute-scoring-with-reference for a record with a reference answer.
    name: "selene",
    mode: "absolute",
    ...SELENE_ABSOLUTE,
    variants: { reference: SELENE_ABSOLUTE_REFERENCE },
    scale: FIVE_POINT,
    output: "selene",
    gbnf: grammarFor("selene", { scale: FIVE_POINT }),
  },
  {
    // Atla Selene's binary rubric (the record's yes_description / no_description): Yes is 1, No 0; classification-with-reference for a record with a reference answer.
    name: "selene-classification",
    mode: "absolute",
    ...SELENE_CLASSIFICATION,
    variants: { reference: SELENE_CLASSIFICATION_REFERENCE },
    scale: BINARY,
    output: "selene-classification",
    gbnf: grammarFor("selene-classification"),
  },
  {
    name: "selene-pairwise",
    mode: "pairwise",
    ...SELENE_PAIRWISE,
    output: "selene-pairwise",
    gbnf: grammarFor("selene-pairwise"),
  },
  {
    // Auto-J single-response rating: its critique, then "Rating: [[n]]" (1-10).
    name: "autoj",
    mode: "absolute",
    ...AUTOJ_SINGLE,
    fields: { prompt: "instruction" },
    scale: TEN_POINT,
    output: "autoj",
    gbnf: grammarFor("autoj", { scale: TEN_POINT }),
  },
  {
    // Auto-J pairwise_tie: Response 1 is response_a, Response 2 response_b.
    name: "autoj-pairwise",
    mode: "pairwise",
    ...AUTOJ_PAIRWISE,
    fields: { prompt: "instruction", response: "response_a", response_another: "response_b" },
    output: "autoj-pairwise",
    gbnf: grammarFor("autoj-pairwise"),
  },
  {
    // JudgeLM: Assistant 1 is response_a, Assistant 2 response_b; conv_judge_pair_w_reference for a record with a reference answer.
    name: "judgelm",
    mode: "pairwise",
    ...JUDGELM,
    variants: { reference: JUDGELM_REFERENCE },
    fields: { answer_1: "response_a", answer_2: "response_b", reference: "reference_answer" },
    fixed: { prompt: JUDGELM_PROMPT },
    scale: TEN_POINT,
    output: "judgelm",
    gbnf: grammarFor("judgelm", { scale: TEN_POINT }),
  },
  {
    // PandaLM: Response 1 is response_a, Response 2 response_b; the "### Input:" form for a record with an input.
    name: "pandalm",
    mode: "pairwise",
    ...PANDALM,
    variants: { input: PANDALM_INPUT },
    output: "pandalm",
    gbnf: grammarFor("pandalm"),
  },
  {
    // AlpacaEval's alpaca_eval_gpt4 annotator: output_1 is response_a, output_2 response_b.
    name: "alpaca-eval",
    mode: "pairwise",
    ...ALPACA_EVAL_GPT4,
    fields: { output_1: "response_a", output_2: "response_b" },
    output: "alpaca-eval",
    gbnf: grammarFor("alpaca-eval"),
  },
  {
    // AlpacaEval's weighted_alpaca_eval_gpt4_turbo: one token m / M; the winner distribution is its preference.
    name: "alpaca-eval-weighted",
    mode: "pairwise",
    ...WEIGHTED_ALPACA_EVAL_GPT4_TURBO,
    fields: { output_1: "response_a", output_2: "response_b" },
    output: "alpaca-eval-logprob",
    gbnf: grammarFor("alpaca-eval-logprob"),
  },
  {
    // RM-R1-Instruct: Chatbot A is response_a, Chatbot B response_b.
    name: "rm-r1",
    mode: "pairwise",
    ...RM_R1_INSTRUCT,
    fields: { answer_a: "response_a", answer_b: "response_b" },
    output: "rm-r1",
    gbnf: grammarFor("rm-r1"),
  },
  {
    // RM-R1-Reasoning (DeepSeek-distilled): it thinks in <think>…</think> first.
    name: "rm-r1-reasoning",
    mode: "pairwise",
    ...RM_R1_REASONING,
    fields: { answer_a: "response_a", answer_b: "response_b" },
    output: "rm-r1",
    reasoning: true,
    gbnf: grammarFor("rm-r1", { reasoningChars: DEFAULT_MAX_REASONING_CHARS }),
  },
  {
    // Flow Judge with your rubric (five points): {INPUTS} holds the query, then context and reference_answer when the record has them.
    name: "flow-judge",
    mode: "absolute",
    user: FLOW_USER_PROMPT,
    taggedInputs: { required: ["query"], optional: ["context", "reference_answer"] },
    scale: FIVE_POINT,
    output: "flow-judge",
    gbnf: grammarFor("flow-judge", { scale: FIVE_POINT }),
  },
  // Flow Judge's preset metrics: criteria and rubric fixed, the inputs each preset requires.
  ...FLOW_PRESETS.map((preset): JudgeTemplate => {
    const scores = preset.rubric.map((item) => item.score);
    const scale = { min: Math.min(...scores), max: Math.max(...scores) };
    return {
      name: preset.template,
      mode: "absolute",
      user: FLOW_USER_PROMPT,
      fixed: { EVALUATION_CRITERIA: preset.criteria, RUBRIC: flowRubric(preset.rubric) },
      taggedInputs: { required: preset.inputs },
      scale,
      output: "flow-judge",
      gbnf: grammarFor("flow-judge", { scale }),
    };
  }),
];

export function builtinTemplateNames(): string[] {
  return BUILTIN.map((template) => template.name);
}

/** A built-in template by name; throws listing the known names. */
export function getTemplate(name: string): JudgeTemplate {
  const template = BUILTIN.find((candidate) => candidate.name === name);
  if (!template) {
    const close = didYouMean(name, builtinTemplateNames());
    throw new Error(
      `unknown template "${name}"; built-in templates: ${builtinTemplateNames().join(", ")}` +
        (close.length > 0 ? `; did you mean ${close.map((c) => `"${c}"`).join(" or ")}?` : ""),
    );
  }
  return template;
}

/** Which parser reads a template's output (see src/parse/). */
export type OutputFormat =
  /** Feedback, then `[RESULT] n` (Prometheus absolute). */
  | "result"
  /** Feedback, then `[SCORE] n` (Criticon). */
  | "score"
  /** Feedback, then `[RESULT] A|B` (Prometheus relative). */
  | "pairwise"
  /** Critique, then `Rating: [[n]]` (Auto-J single-response rating). */
  | "autoj"
  /** Explanation, then `[[n]]` in the closing line (MT-Bench single grading, 1-10). */
  | "mt-bench"
  /** Explanation, then `[[A]]`, `[[B]]` or `[[C]]` (a tie) in the closing line (MT-Bench pairwise). */
  | "mt-bench-pairwise"
  /** Explanation, then one of `[[A>>B]]` `[[A>B]]` `[[A=B]]` `[[B>A]]` `[[B>>A]]` in the closing line (Arena-Hard). */
  | "arena-hard"
  /** Arena-Hard read by v0.1's rule: every `[[label]]` in the output must agree. */
  | "arena-hard-v0.1"
  /** `**Reasoning:** …` then `**Result:** n` (Atla Selene, absolute). */
  | "selene"
  /** `**Reasoning:** …` then `**Result:** Yes|No` (Atla Selene classification; Yes is 1, No 0). */
  | "selene-classification"
  /** `**Reasoning:** …` then `**Result:** A|B` (Atla Selene, pairwise). */
  | "selene-pairwise"
  /** `<feedback>…</feedback>` then `<score>n</score>` (Flow Judge). */
  | "flow-judge"
  /** Comparison, then "So, the final decision is Response 1 / Response 2 / Tie" (Auto-J pairwise). */
  | "autoj-pairwise"
  /** First line "s1 s2" (two 1-10 scores), then the explanation (JudgeLM). */
  | "judgelm"
  /** First line `1`, `2` or `Tie`, then the reason and a reference (PandaLM). */
  | "pandalm"
  /** A Python list ranking model_1 and model_2 (AlpacaEval's alpaca_eval_gpt4, ranking_parser). */
  | "alpaca-eval"
  /** One token, `m` or `M` (AlpacaEval's weighted_alpaca_eval_gpt4_turbo, read by its logprobs). */
  | "alpaca-eval-logprob"
  /** Evaluation, then `<answer>[[A]]</answer>` or `<answer>[[B]]</answer>` (RM-R1). */
  | "rm-r1";

export type TemplateMode = "absolute" | "pairwise";

export interface Scale {
  min: number;
  max: number;
}

/** A system prompt and a user message, with {placeholders}. */
export interface TemplateText {
  system?: string;
  user: string;
}

/**
 * Forms of a template for particular records (MT-Bench ships four): with a reference answer, for a
 * two-turn conversation, and for a two-turn conversation with reference answers.
 */
export interface TemplateVariants {
  reference?: TemplateText;
  multiTurn?: TemplateText;
  multiTurnReference?: TemplateText;
  /** For a record with a `context` field (a document the response should be judged against). */
  context?: TemplateText;
  /** For a record with an `input` field (PandaLM's "### Input:"). */
  input?: TemplateText;
}

/** A prompt template is data: texts with {placeholders}, its scale and how to read its output. */
export interface JudgeTemplate {
  name: string;
  mode: TemplateMode;
  system?: string;
  /** User message text with {placeholders}; `{{` and `}}` are literal braces. */
  user: string;
  /**
   * Used instead of `user` when the record has no reference answer (Prometheus ships both forms).
   * When absent, `user` is always used.
   */
  userNoReference?: string;
  /** Forms used instead of system + user for records with a reference answer or a conversation. */
  variants?: TemplateVariants;
  /** Record field of each placeholder whose name says something else (Auto-J's {response_another} is response_b). */
  fields?: Record<string, string>;
  /** Placeholder values the template fixes (a Flow Judge preset's {EVALUATION_CRITERIA} and {RUBRIC}). */
  fixed?: Record<string, string>;
  /**
   * Flow Judge's layout: {INPUTS} holds these record fields as `<tag>\nvalue\n</tag>` blocks
   * (`query` is the instruction), {OUTPUT} the response as `<response>` and {RUBRIC} the rubric as
   * `- Score n: description` lines.
   */
  taggedInputs?: { required: string[]; optional?: string[] };
  /** Score range, for absolute templates. */
  scale?: Scale;
  output: OutputFormat;
  /** llama.cpp grammar that forces output the parser accepts. */
  gbnf: string;
  /**
   * A reasoning judge: the output grammar allows a bounded `<think>…</think>` block before the
   * output (its bound comes from --max-tokens); parsers always read the answer after it.
   */
  reasoning?: boolean;
  /**
   * critic's own context section, for a record with `context` whose chosen form has no published
   * place for it: `text` (holding `{context}`) goes right before `before` in the user message. Without
   * it an absolute template gets CONTEXT_SECTION before the paragraph that holds the response.
   */
  contextSection?: { before: string; text: string };
  /** Longest feedback the grammar allows (default DEFAULT_MAX_FEEDBACK_CHARS). */
  maxFeedbackChars?: number;
}

/** A Prometheus-style 1-5 score rubric. */
export interface Rubric {
  criteria: string;
  score1_description: string;
  score2_description: string;
  score3_description: string;
  score4_description: string;
  score5_description: string;
}

/**
 * An AI SDK decision question as a critic grader: each question type becomes a judge prompt whose
 * output ends with `[RESULT] n` (Prometheus' format), so critic's parser, output grammar and
 * verdict probabilities serve every type. `score` levels are numbered 1..n in the prompt, `choice`
 * options 1..k, and a `boolean` question is answered 1 (true) or 0 (false).
 */
import type {
  Experimental_DecisionModelV4Input as DecisionInput,
  Experimental_DecisionModelV4Question as DecisionQuestion,
  Experimental_DecisionModelV4State as DecisionState,
} from "@ai-sdk/provider";
import {
  ABS_SYSTEM_PROMPT, createGrader, DEFAULT_MAX_FEEDBACK_CHARS, getTemplate, grammarFor, resolveGrader,
  type Grader, type JudgeTemplate, type Rubric,
} from "../index.js";

export interface QuestionOptions {
  /** Template for `score` questions (built-in name or YAML file); its scale must have the question's levels. */
  template?: string;
  /** Rubric for `score` questions (built-in name, YAML file or object): replaces the question's criteria. */
  rubric?: string | Rubric;
  /** Token budget of one judgment: the output grammar's feedback is sized to finish within it. */
  maxTokens: number;
}

/** A question compiled for the judge engine: the record it judges and how a verdict maps back. */
export interface CompiledQuestion {
  grader: Grader;
  record: Record<string, unknown>;
  /** The verdict value of label i is `min + i`: score levels, choice options, or [false, true]. */
  min: number;
  labels: string[];
}

/** Instructions and criteria are text or JSON; JSON is shown as JSON. */
export function inputText(input: DecisionInput | null | undefined): string | undefined {
  if (input === null || input === undefined) return undefined;
  return typeof input === "string" ? input : JSON.stringify(input, null, 2);
}

/** The state as one text: text parts as they are, JSON parts as JSON. Files cannot be judged by a text judge. */
export function stateText(state: DecisionState): string {
  return state
    .map((part, i) => {
      if (part.type === "text") return part.text;
      if (part.type === "json") return JSON.stringify(part.value, null, 2);
      throw new Error(`state part ${i}: critic judges text and JSON state; a ${part.type} part cannot be shown to a text judge`);
    })
    .join("\n\n");
}

/** A state that is one JSON object is a record: its own fields (instruction, response, reference_answer …) fill the template. */
export function stateRecord(state: DecisionState): Record<string, unknown> | undefined {
  if (state.length !== 1) return undefined;
  const part = state[0]!;
  if (part.type !== "json" || part.value === null || typeof part.value !== "object" || Array.isArray(part.value)) return undefined;
  return part.value as Record<string, unknown>;
}

const TASK_HEAD = "###Task Description:\n";
const TASK_TAIL = "4. Please do not generate any other opening, closing, and explanations.\n\n###Content to evaluate:\n{content}\n\n";

/** Score levels: Prometheus' absolute task, worded for content that is not an instruction-response pair. */
function scoreText(levels: number): string {
  return (
    `${TASK_HEAD}A content to evaluate and a score rubric with ${levels} levels representing an evaluation criteria are given.\n` +
    "1. Write a detailed feedback that assess the quality of the content strictly based on the given score rubric, not evaluating in general.\n" +
    `2. After writing a feedback, write a score that is an integer between 1 and ${levels}. You should refer to the score rubric.\n` +
    `3. The output format should look as follows: "Feedback: (write a feedback for criteria) [RESULT] (an integer number between 1 and ${levels})"\n` +
    TASK_TAIL +
    "###Score Rubrics:\n{rubric}\n\n###Feedback: "
  );
}

function choiceText(options: number): string {
  return (
    `${TASK_HEAD}A content to evaluate, a question about it and ${options} numbered options are given.\n` +
    "1. Write a detailed feedback that assess the content strictly based on the question and the options, not evaluating in general.\n" +
    `2. After writing a feedback, write the number of the option that fits best, an integer between 1 and ${options}.\n` +
    `3. The output format should look as follows: "Feedback: (write a feedback for the question) [RESULT] (an integer number between 1 and ${options})"\n` +
    TASK_TAIL +
    "###Question:\n{question}\n\n###Options:\n{options}\n\n###Feedback: "
  );
}

function booleanText(): string {
  return (
    `${TASK_HEAD}A content to evaluate and a pass/fail criterion are given.\n` +
    "1. Write a detailed feedback that assess the content strictly based on the criterion, not evaluating in general.\n" +
    "2. After writing a feedback, write 1 if the content passes (the criterion holds) or 0 if it fails.\n" +
    '3. The output format should look as follows: "Feedback: (write a feedback for criteria) [RESULT] (1 or 0)"\n' +
    TASK_TAIL +
    "###Criterion:\n{question}\n\n###Feedback: "
  );
}

function decisionTemplate(name: string, user: string, min: number, max: number, maxTokens: number): JudgeTemplate {
  const scale = { min, max };
  const maxFeedbackChars = feedbackLimit(maxTokens);
  return { name, mode: "absolute", system: ABS_SYSTEM_PROMPT, user, scale, output: "result", gbnf: grammarFor("result", { scale, maxFeedbackChars }), maxFeedbackChars };
}

/** The grammar leaves room for the verdict within the token budget (as resolveGrader does for its templates). */
function feedbackLimit(maxTokens: number): number {
  return Math.min(DEFAULT_MAX_FEEDBACK_CHARS, Math.max(8, maxTokens - 16));
}

function rubricText(criteria: string, levels: string[]): string {
  return `[${criteria}]\n` + levels.map((d, i) => `Score ${i + 1}: ${d}`).join("\n");
}

const NO_DESCRIPTION = "(no description)";

/** Compiles one question against the state. Throws (naming the question) when it cannot be judged. */
export function compileQuestion(id: string, question: DecisionQuestion, state: DecisionState, options: QuestionOptions): CompiledQuestion {
  try {
    return compile(question, state, options);
  } catch (error) {
    throw new Error(`question "${id}": ${error instanceof Error ? error.message : String(error)}`);
  }
}

function compile(question: DecisionQuestion, state: DecisionState, options: QuestionOptions): CompiledQuestion {
  const instructions = inputText(question.instructions);
  switch (question.type) {
    case "score": {
      const levels = question.criteria.map((c) => inputText(c) ?? NO_DESCRIPTION);
      const labels = levels.map((_, i) => String(i));
      const record = stateRecord(state);
      if (options.template !== undefined || options.rubric !== undefined) {
        if (!record) throw new Error("a template or rubric judges a record: give the state as one JSON object with the template's fields (instruction, response …)");
        const grader = resolveGrader({ template: options.template, rubric: options.rubric ?? promRubric(instructions, levels), maxTokens: options.maxTokens });
        const scale = grader.verdict?.candidates.map(Number);
        if (grader.mode !== "absolute" || !scale) throw new Error(`template "${grader.template}" does not grade on a score scale`);
        if (scale.length !== levels.length) throw new Error(`template "${grader.template}" has ${scale.length} score levels, the question ${levels.length}`);
        return { grader, record, min: Math.min(...scale), labels };
      }
      // The published Prometheus prompt, byte for byte, where the state is an instruction and a response on a 5-level rubric.
      if (record && levels.length === 5 && typeof record.instruction === "string" && typeof record.response === "string") {
        const template = getTemplate("prometheus-absolute");
        const fitted = { ...template, gbnf: grammarFor("result", { scale: template.scale, maxFeedbackChars: feedbackLimit(options.maxTokens) }) };
        return { grader: textGrader(createGrader(fitted, promRubric(instructions, levels))), record, min: 1, labels };
      }
      const template = decisionTemplate(`critic-decision-score-${levels.length}`, scoreText(levels.length), 1, levels.length, options.maxTokens);
      return { grader: textGrader(createGrader(template)), record: { content: stateText(state), rubric: rubricText(instructions ?? "Which level describes the content?", levels) }, min: 1, labels };
    }
    case "choice": {
      const names = Object.keys(question.criteria);
      const list = names.map((name, i) => {
        const description = inputText(question.criteria[name]);
        return `${i + 1}. ${name}${description ? `: ${description}` : ""}`;
      });
      const template = decisionTemplate(`critic-decision-choice-${names.length}`, choiceText(names.length), 1, names.length, options.maxTokens);
      return { grader: textGrader(createGrader(template)), record: { content: stateText(state), question: instructions ?? "Which option fits the content?", options: list.join("\n") }, min: 1, labels: names };
    }
    case "boolean": {
      const lines = [instructions ?? "Does the content meet the criterion below?"];
      const whenTrue = inputText(question.criteria?.true);
      const whenFalse = inputText(question.criteria?.false);
      if (whenTrue) lines.push(`Pass (1): ${whenTrue}`);
      if (whenFalse) lines.push(`Fail (0): ${whenFalse}`);
      const template = decisionTemplate("critic-decision-boolean", booleanText(), 0, 1, options.maxTokens);
      return { grader: textGrader(createGrader(template)), record: { content: stateText(state), question: lines.join("\n") }, min: 0, labels: ["false", "true"] };
    }
    default:
      throw new Error(`critic answers score, choice and boolean questions, not ${(question as { type: string }).type}`);
  }
}

/** Judges read text output, as resolveGrader's graders do (JSON output is asked for only with `structured`). */
function textGrader(grader: Grader): Grader {
  return { ...grader, constraint: { gbnf: grader.constraint?.gbnf } };
}

/** Prometheus' rubric needs five descriptions: a 5-level question's criteria. */
function promRubric(instructions: string | undefined, levels: string[]): Rubric | undefined {
  if (levels.length !== 5) return undefined;
  return {
    criteria: instructions ?? "Which level describes the response?",
    score1_description: levels[0]!, score2_description: levels[1]!, score3_description: levels[2]!,
    score4_description: levels[3]!, score5_description: levels[4]!,
  };
}

import { existsSync } from "node:fs";
import {
  createGrader, DEFAULT_MAX_FEEDBACK_CHARS, getTemplate, grammarFor, loadRubric, loadTemplateFile,
  type JudgeTemplate, type Rubric,
} from "../templates/index.js";
import type { ParseMode } from "../parse/index.js";
import { DEFAULT_MAX_TOKENS } from "./engine.js";
import type { Grader, Mode } from "./types.js";

export interface GraderOptions {
  /** Built-in template name (prometheus, prometheus-absolute, prometheus-pairwise, criticon) or a template YAML file. */
  template?: string;
  /** Without a template: absolute picks prometheus-absolute, pairwise prometheus-pairwise. */
  mode?: Mode;
  /** Built-in rubric name, rubric YAML file, or a rubric object. Default: the record's own criteria fields. */
  rubric?: string | Rubric;
  /**
   * Ask backends with structured output (Ollama) for JSON `{feedback, score|winner}` instead of the
   * template's text format. Off by default: published judges were trained on the text format.
   */
  structured?: boolean;
  /** How verdicts are read: "authors" (default), as each format's own code reads them, or "strict" (closing line only). */
  parse?: ParseMode;
  /** The token budget of one judgment; the output grammar is sized to finish within it. */
  maxTokens?: number;
  /**
   * Any template's output grammar allows a bounded `<think>…</think>` block before its verdict (as
   * rm-r1-reasoning's does), sized from maxTokens; verdicts are read after the last `</think>`.
   */
  reasoning?: boolean;
}

const ALIASES: Record<string, string> = {
  prometheus: "prometheus-absolute",
  "prometheus-relative": "prometheus-pairwise",
};

/** Resolves template, mode and rubric options into the Grader the engine runs. */
export function resolveGrader(options: GraderOptions): Grader {
  const template = resolveTemplate(options);
  if (options.mode && options.mode !== template.mode) {
    throw new Error(`template "${template.name}" grades ${template.mode}, but --mode ${options.mode} was given`);
  }
  const rubric = typeof options.rubric === "string" ? loadRubric(options.rubric) : options.rubric;
  const thinking = options.reasoning ? { ...template, reasoning: true } : template;
  const built = createGrader(fitGrammar(thinking, options.maxTokens ?? DEFAULT_MAX_TOKENS), rubric, {}, { parse: options.parse });
  const grader = { ...built, buildMessages: rememberMessages(built.buildMessages), ...(rubric ? { rubric } : {}) };
  return options.structured ? grader : { ...grader, constraint: { gbnf: grader.constraint?.gbnf } };
}

/**
 * The same record object gives the same messages: judge() renders each record once to check it can
 * be filled, and the engine renders it again for every sample; the second time is a lookup.
 */
function rememberMessages(build: Grader["buildMessages"]): Grader["buildMessages"] {
  const rendered = new WeakMap<Record<string, unknown>, ReturnType<Grader["buildMessages"]>>();
  return (record) => {
    let messages = rendered.get(record);
    if (!messages) rendered.set(record, (messages = build(record)));
    return messages;
  };
}

function resolveTemplate(options: GraderOptions): JudgeTemplate {
  const name = options.template ?? (options.mode === "pairwise" ? "prometheus-pairwise" : "prometheus-absolute");
  if (/\.ya?ml$/i.test(name) || (existsSync(name) && !(name in ALIASES))) return loadTemplateFile(name);
  if (name === "prometheus" && options.mode === "pairwise") return getTemplate("prometheus-pairwise");
  return getTemplate(ALIASES[name] ?? name);
}

/**
 * Every token emits at least one character, so a feedback bounded to (budget - margin)
 * characters leaves room for the verdict: grammar-constrained output always ends with a
 * verdict instead of being cut off mid-feedback. (Characters outside ASCII may take several
 * byte tokens; such an overrun is a recorded parse failure, never a silent score.) A reasoning
 * judge's `<think>` block takes three quarters of what the budget leaves, the feedback the rest:
 * --max-tokens says how much reasoning is allowed.
 */
function fitGrammar(template: JudgeTemplate, maxTokens: number): JudgeTemplate {
  const VERDICT_MARGIN = 16;
  const feedbackMax = template.maxFeedbackChars ?? DEFAULT_MAX_FEEDBACK_CHARS;
  const room = Math.max(16, maxTokens - VERDICT_MARGIN);
  if (template.reasoning) {
    const reasoningChars = Math.max(8, Math.floor(room * 0.75));
    const limit = Math.min(feedbackMax, Math.max(8, room - reasoningChars));
    return { ...template, gbnf: grammarFor(template.output, { scale: template.scale, maxFeedbackChars: limit, reasoningChars }), maxFeedbackChars: limit };
  }
  const limit = Math.min(feedbackMax, Math.max(8, maxTokens - VERDICT_MARGIN));
  if (limit === feedbackMax) return template;
  return { ...template, gbnf: grammarFor(template.output, { scale: template.scale, maxFeedbackChars: limit }), maxFeedbackChars: limit };
}

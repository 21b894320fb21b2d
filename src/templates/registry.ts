import { CRITICON_INSTRUCTION_TEMPLATE, CRITICON_SYSTEM_PROMPT } from "./criticon.js";
import { grammarFor } from "./grammars.js";
import {
  ABS_SYSTEM_PROMPT,
  PROMETHEUS_ABSOLUTE_PROMPT,
  PROMETHEUS_ABSOLUTE_PROMPT_WO_REF,
  PROMETHEUS_RELATIVE_PROMPT,
  PROMETHEUS_RELATIVE_PROMPT_WO_REF,
  REL_SYSTEM_PROMPT,
} from "./prometheus.js";
import type { JudgeTemplate } from "./types.js";

const FIVE_POINT = { min: 1, max: 5 };
const TEN_POINT = { min: 1, max: 10 };

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
];

export function builtinTemplateNames(): string[] {
  return BUILTIN.map((template) => template.name);
}

/** A built-in template by name; throws listing the known names. */
export function getTemplate(name: string): JudgeTemplate {
  const template = BUILTIN.find((candidate) => candidate.name === name);
  if (!template) throw new Error(`unknown template "${name}"; built-in templates: ${builtinTemplateNames().join(", ")}`);
  return template;
}

import { PROMETHEUS_ABSOLUTE_PROMPT, PROMETHEUS_ABSOLUTE_PROMPT_WO_REF } from "../templates/prometheus.js";
import { fillPlaceholders } from "../templates/render.js";

/** The fields of a Prometheus absolute prompt, as prometheus-eval's benchmark files embed it. */
export interface PrometheusFields {
  instruction: string;
  response: string;
  reference_answer?: string;
  /** The formatted rubric: `[criteria]` then `Score 1: ...` to `Score 5: ...`. */
  rubric: string;
}

const INSTRUCTION = "###The instruction to evaluate:\n";
const RESPONSE = "\n\n###Response to evaluate:\n";
const REFERENCE = "\n\n###Reference Answer (Score 5):\n";
const RUBRIC = "\n\n###Score Rubrics:\n";
const FEEDBACK = "\n\n###Feedback: ";

/**
 * Splits an embedded Prometheus absolute prompt back into its fields. The result is only
 * returned when critic's own template, filled with those fields, gives back the prompt byte for
 * byte, so a benchmark graded from the fields sees exactly what the published judge saw.
 */
export function parsePrometheusPrompt(prompt: string): PrometheusFields | { error: string } {
  const start = prompt.indexOf(INSTRUCTION);
  const response = prompt.indexOf(RESPONSE, start);
  const rubric = prompt.lastIndexOf(RUBRIC);
  if (start < 0 || response < 0 || rubric < response || !prompt.endsWith(FEEDBACK)) {
    return { error: "not a Prometheus absolute prompt (missing a ### section)" };
  }
  const reference = prompt.lastIndexOf(REFERENCE, rubric);
  const fields: PrometheusFields = {
    instruction: prompt.slice(start + INSTRUCTION.length, response),
    response: prompt.slice(response + RESPONSE.length, reference > response ? reference : rubric),
    ...(reference > response ? { reference_answer: prompt.slice(reference + REFERENCE.length, rubric) } : {}),
    rubric: prompt.slice(rubric + RUBRIC.length, prompt.length - FEEDBACK.length),
  };
  const template = fields.reference_answer === undefined ? PROMETHEUS_ABSOLUTE_PROMPT_WO_REF : PROMETHEUS_ABSOLUTE_PROMPT;
  const rendered = fillPlaceholders(template, (name) => (fields as unknown as Record<string, string>)[name] ?? "");
  if (rendered !== prompt) return { error: "prompt does not match the Prometheus template byte for byte" };
  return fields;
}

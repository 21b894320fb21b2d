/**
 * Critique SFT examples from judgments: the judge prompt, rendered with the project's own
 * templates (src/templates: byte-exact Prometheus and Criticon), and the judge's answer in the
 * template's output format, e.g. Criticon `"{feedback} [SCORE] {score}"`, Prometheus
 * `"{feedback} [RESULT] {score}"` or `"{feedback} [RESULT] A|B"`.
 */
import { existsSync } from "node:fs";
import { getTemplate, loadTemplateFile, renderPrompt } from "../templates/index.js";
import type { JudgeTemplate, OutputFormat, Rubric } from "../templates/types.js";
import type { Example, SftItem, Skip } from "./types.js";

export interface CritiqueOptions {
  /** Rubric for templates with a {rubric} placeholder when the records carry none (as `critic judge --rubric`). */
  rubric?: Rubric | string;
  /** Round non-integer scores (means over samples) to the nearest whole number instead of skipping them. */
  round?: boolean;
  /** Put the system prompt at the head of the user message instead of a system message. */
  systemInUser?: boolean;
}

const ALIASES: Record<string, string> = {
  prometheus: "prometheus-absolute",
  "prometheus-relative": "prometheus-pairwise",
};

/** A built-in template by name (with the `critic judge` aliases) or a template YAML file. */
export function resolveTemplate(nameOrFile: string): JudgeTemplate {
  if (/\.ya?ml$/i.test(nameOrFile) || (existsSync(nameOrFile) && !(nameOrFile in ALIASES))) return loadTemplateFile(nameOrFile);
  return getTemplate(ALIASES[nameOrFile] ?? nameOrFile);
}

/** A built-in template by name, or undefined (a custom template's name tells nothing about its text). */
export function builtinTemplate(name: string | undefined): JudgeTemplate | undefined {
  if (name === undefined) return undefined;
  try {
    return getTemplate(ALIASES[name] ?? name);
  } catch {
    return undefined;
  }
}

/** The judge's answer in a template's output format (a pairwise verdict: A, B, tie, or Arena-Hard's level). */
export function critiqueTarget(output: OutputFormat, feedback: string, verdict: number | string): string {
  switch (output) {
    case "result":
    case "pairwise":
      return `${feedback} [RESULT] ${verdict}`;
    case "score":
      return `${feedback} [SCORE] ${verdict}`;
    case "autoj":
    case "mt-bench":
      return `${feedback}\n\nRating: [[${verdict}]]`;
    case "autoj-pairwise":
      return `${feedback}\n\nSo, the final decision is ${verdict === "tie" ? "Tie" : verdict === "A" ? "Response 1" : "Response 2"}`;
    case "pandalm":
      return `${verdict === "tie" ? "Tie" : verdict === "A" ? "1" : "2"}\n\n### Reason: ${feedback}`;
    case "rm-r1":
      return `${feedback}\n\n<answer>[[${verdict}]]</answer>`;
    case "alpaca-eval":
      return `[\n    {'model': 'model_1', 'rank': ${verdict === "A" ? 1 : 2}},\n    {'model': 'model_2', 'rank': ${verdict === "A" ? 2 : 1}}\n]`;
    case "alpaca-eval-logprob":
      return verdict === "A" ? "m" : "M";
    case "judgelm":
      throw new Error("judgelm targets need two scores, which a judgment does not keep");
    case "flow-judge":
      return `<feedback>\n${feedback}\n</feedback>\n<score>\n${verdict}\n</score>`;
    case "selene":
    case "selene-pairwise":
      return `**Reasoning:** ${feedback}\n\n**Result:** ${verdict}`;
    case "selene-classification":
      return `**Reasoning:** ${feedback}\n\n**Result:** ${Number(verdict) === 1 ? "Yes" : "No"}`;
    case "mt-bench-pairwise":
      return `${feedback}\n\n[[${verdict === "tie" ? "C" : verdict}]]`;
    case "arena-hard":
    case "arena-hard-v0.1":
      return `${feedback}\n\nMy final verdict is: [[${verdict}]]`;
  }
}

/** Formats whose verdicts include a tie. */
const TIE_FORMATS: readonly OutputFormat[] = ["mt-bench-pairwise", "arena-hard", "arena-hard-v0.1", "autoj-pairwise", "pandalm"];

/**
 * The critique SFT item of a judgment under `template`: prompt messages and target, or why there is none.
 * Pairwise templates need pairwise judgments; absolute ones need a whole score in the template's
 * scale (made on the same scale when the judging template is a known one).
 */
export function critiqueItem(template: JudgeTemplate, example: Example, options: CritiqueOptions = {}): SftItem | Skip {
  if (example.kind !== "judgment") return { skip: "needs-judgment" };
  if (example.mode !== template.mode) return { skip: "mode-mismatch", detail: `template "${template.name}" grades ${template.mode}, the judgment is ${example.mode}` };
  if (template.output === "judgelm") return { skip: "no-verdict", detail: "judgelm targets need the two scores of its first line, which a judgment does not keep" };
  const feedback = example.feedback.trim();
  if (feedback === "") return { skip: "empty-text", detail: "empty feedback" };
  let verdict: number | string;
  if (example.mode === "pairwise") {
    if (example.winner === "tie" && !TIE_FORMATS.includes(template.output)) return { skip: "tie" };
    verdict = example.winner;
    if ((template.output === "arena-hard" || template.output === "arena-hard-v0.1")) {
      // The level (A>>B or A>B) cannot be made up from a plain winner.
      const level = example.record.verdict;
      if (typeof level !== "string" || !/^(A>>B|A>B|A=B|B>A|B>>A)$/.test(level)) {
        return { skip: "no-verdict", detail: "arena-hard targets need the judgment's five-level `verdict` (A>>B … B>>A)" };
      }
      verdict = level;
    }
  } else {
    const scale = template.scale;
    const judgedWith = builtinTemplate(example.judge?.template);
    if (scale && judgedWith?.scale && (judgedWith.scale.min !== scale.min || judgedWith.scale.max !== scale.max)) {
      return {
        skip: "scale-mismatch",
        detail: `judged ${judgedWith.scale.min}-${judgedWith.scale.max} with "${judgedWith.name}", template "${template.name}" scores ${scale.min}-${scale.max}`,
      };
    }
    let score = example.score;
    if (!Number.isInteger(score)) {
      if (!options.round) return { skip: "non-integer-score", detail: `score ${score}` };
      score = Math.round(score);
    }
    if (scale && (score < scale.min || score > scale.max)) return { skip: "score-out-of-scale", detail: `score ${score} is outside ${scale.min}-${scale.max}` };
    verdict = score;
  }
  const argued = critiqueFor(example, verdict);
  if (typeof argued !== "string") return argued;
  let prompt;
  try {
    prompt = renderPrompt(template, example.record, options.rubric ?? example.judge?.rubric, { systemInUser: options.systemInUser });
  } catch (error) {
    return { skip: "missing-field", detail: error instanceof Error ? error.message : String(error) };
  }
  return { prompt, completion: critiqueTarget(template.output, argued, verdict), template: template.name };
}

/**
 * The critique text for a target verdict. A judgment over several samples has a verdict (mean or
 * majority) that its first critique may not argue for: the first sample that argued for the verdict
 * gives the text, and with none there is no target. A human correction's note is its own text.
 */
function critiqueFor(example: Extract<Example, { kind: "judgment" }>, verdict: number | string): string | Skip {
  const feedback = example.feedback.trim();
  const samples = example.samples;
  if (!samples || samples.length < 2 || example.correction) return feedback;
  // Arena-Hard's level ("A>B") is argued by the sample whose winner it names.
  const wanted = typeof verdict === "string" && verdict.length > 1 ? levelWinner(verdict) : verdict;
  const agreeing = samples.find((s) => s.verdict === wanted && s.feedback.trim() !== "");
  if (agreeing) return agreeing.feedback.trim();
  return { skip: "no-sample-agrees", detail: `verdict ${verdict}, samples ${samples.map((s) => s.verdict).join(", ")}` };
}

function levelWinner(level: string): string {
  return level.startsWith("A>") ? "A" : level.startsWith("B>") ? "B" : "tie";
}

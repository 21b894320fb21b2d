/**
 * Rows of the score formats: `classify` ({text, label: score index}) and `regress` ({text, label:
 * score}), for a sequence-classification judge (`critic train classify|regress`). The text is the
 * judge prompt the template renders, with the system prompt at the head of the user message
 * (render.ts' systemInUser form); train.py applies the base model's chat template to it, as the
 * judge package does at inference. The gold score is the judgment's (or the human's, --labels, or a
 * dataset's own score field mapped to `score`).
 */
import { getTemplate, renderPrompt } from "../templates/index.js";
import type { JudgeTemplate, Scale } from "../templates/types.js";
import { builtinTemplate, type CritiqueOptions } from "./critique.js";
import { dropoutDraw, phudgePrompt } from "../templates/phudge.js";
import type { Example, Row, Skip } from "./types.js";

export interface ScoreRowOptions {
  /** PHUDGE's rubric / reference dropout probability for train rows (test rows keep both). */
  augmentDrop?: number;
  /** The split the row goes to (dropout applies to train only). */
  split?: "train" | "test";
  /** Seed of the dropout draws (the split seed). */
  seed?: number;
}

export const DEFAULT_SCORE_TEMPLATE = "prometheus-absolute";

/** The template a score row is rendered with: --template, the judgment's own built-in one, else prometheus-absolute. */
export function scoreTemplate(example: Extract<Example, { kind: "judgment" }>, template: JudgeTemplate | undefined): JudgeTemplate | undefined {
  if (template) return template;
  if (example.judge?.template === undefined) return getTemplate(DEFAULT_SCORE_TEMPLATE);
  return builtinTemplate(example.judge.template);
}

/** The head labels of a scale: one per whole score, lowest first (row i of the head stands for labels[i]). */
export function scaleLabels(scale: Scale): number[] {
  return Array.from({ length: scale.max - scale.min + 1 }, (_, i) => scale.min + i);
}

export function scoreRow(
  format: "classify" | "regress",
  example: Example,
  options: CritiqueOptions & ScoreRowOptions & { template?: JudgeTemplate },
): { row: Row; template: string } | Skip {
  if (example.kind !== "judgment") return { skip: "needs-score" };
  if (example.mode !== "absolute") return { skip: "needs-score", detail: "a pairwise judgment has a winner, not a score" };
  const template = scoreTemplate(example, options.template);
  if (!template) return { skip: "unknown-template", detail: `template "${example.judge?.template}"` };
  if (template.mode !== "absolute" || !template.scale) return { skip: "mode-mismatch", detail: `template "${template.name}" does not grade on a score scale` };
  const scale = template.scale;
  const judgedWith = builtinTemplate(example.judge?.template);
  if (judgedWith?.scale && (judgedWith.scale.min !== scale.min || judgedWith.scale.max !== scale.max)) {
    return { skip: "scale-mismatch", detail: `judged ${judgedWith.scale.min}-${judgedWith.scale.max} with "${judgedWith.name}", template "${template.name}" scores ${scale.min}-${scale.max}` };
  }
  let score = example.score;
  if (format === "classify" && !Number.isInteger(score)) {
    if (!options.round) return { skip: "non-integer-score", detail: `score ${score}` };
    score = Math.round(score);
  }
  if (score < scale.min || score > scale.max) return { skip: "score-out-of-scale", detail: `score ${score} is outside ${scale.min}-${scale.max}` };
  let text: string;
  try {
    const messages = renderPrompt(template, example.record, options.rubric ?? example.judge?.rubric, { systemInUser: options.augmentDrop === undefined });
    if (options.augmentDrop === undefined) {
      text = messages.map((m) => m.content).join("\n\n");
    } else {
      const user = messages.filter((m) => m.role === "user").map((m) => m.content).join("\n\n");
      const keep = options.split === "train" ? dropoutDraw(options.augmentDrop, options.seed ?? 0, JSON.stringify(example.record)) : { rubric: true, reference: true };
      const phudge = phudgePrompt(user, keep);
      text = `${phudge.system}\n\n${phudge.user}`;
    }
  } catch (error) {
    return { skip: "missing-field", detail: error instanceof Error ? error.message : String(error) };
  }
  if (text.trim() === "") return { skip: "empty-text" };
  return { row: { text, label: format === "classify" ? score - scale.min : score }, template: template.name };
}

/**
 * The scale a human labels on in `critic view`: every score a judge could have given, not only
 * those it did give (else a human could never correct it toward a score it did not use).
 */
import { existsSync } from "node:fs";
import { getTemplate } from "../templates/registry.js";
import { loadTemplateFile } from "../templates/template-file.js";
import type { JudgmentIndex } from "./judgment-index.js";

export interface LabelScale {
  scores: number[];
  /** Where the scale came from, in words for the page. */
  source: string;
  /** Set when the scale is only a guess the user should confirm with --scale. */
  warning?: string;
}

const range = (min: number, max: number) => Array.from({ length: max - min + 1 }, (_, i) => min + i);

/** Parses "1-10" (whole numbers, low-high). */
export function parseScale(text: string): number[] {
  const m = /^\s*(-?\d+)\s*-\s*(-?\d+)\s*$/.exec(text);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2]) : NaN;
  if (!m || hi <= lo) throw new Error(`expected a whole-number range like 1-5, got "${text}"`);
  if (hi - lo > 100) throw new Error(`a scale of ${hi - lo + 1} points is too long to label by key or button: "${text}"`);
  return range(lo, hi);
}

/** The scale of the judgments' template, when it is known here (built in, or a template file that still exists). */
function templateScale(template: string): number[] | undefined {
  try {
    const found = /[\\/]|\.ya?ml$/i.test(template) ? (existsSync(template) ? loadTemplateFile(template) : undefined) : getTemplate(template);
    return found?.scale ? range(found.scale.min, found.scale.max) : undefined;
  } catch {
    return undefined;
  }
}

/** --scale, else the template's scale, else the keys of the score distributions, else the scores seen. */
export function labelScale(index: Pick<JudgmentIndex, "templates" | "distributionScores" | "seenScores">, flag?: number[]): LabelScale {
  if (flag && flag.length > 0) return { scores: flag, source: `--scale ${flag[0]}-${flag[flag.length - 1]}` };
  for (const template of index.templates) {
    const scores = templateScale(template);
    if (scores) return { scores, source: `template ${template}` };
  }
  if (index.distributionScores.length > 1) {
    const whole = index.distributionScores.every(Number.isInteger);
    const scores = whole ? range(index.distributionScores[0] as number, index.distributionScores[index.distributionScores.length - 1] as number) : index.distributionScores;
    return { scores, source: "the keys of score_distribution" };
  }
  const seen = index.seenScores.filter(Number.isInteger);
  const scores = seen.length > 0 ? range(Math.min(...seen), Math.max(...seen)) : range(1, 5);
  return {
    scores,
    source: seen.length > 0 ? "the scores the judge gave (no template scale or distribution recorded)" : "a default 1-5 (no template, distribution or score recorded)",
    warning: "the scale is a guess: start critic view with --scale <min>-<max> (e.g. --scale 1-10) to label on the template's full scale",
  };
}

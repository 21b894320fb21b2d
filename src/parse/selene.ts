/**
 * Atla Selene's `**Reasoning:** …` / `**Result:** x`, read as the authors' cookbook reads it
 * (parse_atla_response in cookbooks/HF_Quickstart_Absolute_Scoring.ipynb,
 * atla-ai/selene-mini@1425d208ee0929fca282eb14cc5efab7310c0060): the output's lines stripped, the
 * last one starting with `**Result:**` gives the result (Python `int()` of the rest for a score;
 * Yes 1 and No 0 for a classification, as cookbooks/HF_Quickstart_Hallucination.ipynb maps them).
 * `strict`: that line must close the output.
 */
import { labelMatches, withoutQuoted, type LabelMatch, type ParseContext } from "./quoted.js";
import type { AbsoluteParse, PairwiseParse, ParseFailure, ScoreRange } from "./types.js";

const RESULT_LINE = /^[ \t]*(\*\*Result:\*\*[^\n]*)$/gm;
const REASONING = /^\s*\*\*Reasoning:\*\*/;

function failure(raw: string, error: string): ParseFailure {
  return { ok: false, error, raw };
}

function resultLine(text: string, strict: boolean, context: ParseContext | undefined): { match: LabelMatch; value: string } | ParseFailure {
  const matches = labelMatches(text, RESULT_LINE).map((m) => ({ ...m, text: m.text.trim(), index: m.index + m.text.length - m.text.trimStart().length }));
  const match = withoutQuoted(context, (keep) => matches.filter(keep).at(-1));
  if (!match) return failure(text, 'no "**Result:**" line in the output');
  if (strict && text.slice(match.index + match.text.length).trim() !== "") return failure(text, 'the "**Result:**" line is not the last line');
  return { match, value: match.text.slice("**Result:**".length).trim() };
}

function reasoning(text: string, end: number): string {
  return text.slice(0, end).replace(REASONING, "").trim();
}

export function parseSeleneScore(text: string, range: ScoreRange, strict = false, context?: ParseContext): AbsoluteParse {
  const found = resultLine(text, strict, context);
  if ("ok" in found) return found;
  // Python int(): optional sign, digits, underscores between digits.
  if (!/^[+-]?\d+(?:_\d+)*$/.test(found.value)) return failure(text, `result "${found.value}" is not an integer`);
  const score = Number(found.value.replace(/_/g, ""));
  if (score < range.min || score > range.max) return failure(text, `score ${score} is outside ${range.min}-${range.max}`);
  return { ok: true, feedback: reasoning(text, found.match.index), score };
}

/** The classification templates' Yes / No, as the authors' hallucination cookbook maps them: Yes 1, No 0. */
export const SELENE_CLASSIFICATION_SCORES: Readonly<Record<string, number>> = { Yes: 1, No: 0 };

export function parseSeleneClassification(text: string, strict = false, context?: ParseContext): AbsoluteParse {
  const found = resultLine(text, strict, context);
  if ("ok" in found) return found;
  const score = SELENE_CLASSIFICATION_SCORES[found.value];
  if (score === undefined) return failure(text, `result "${found.value}" is not Yes or No`);
  return { ok: true, feedback: reasoning(text, found.match.index), score };
}

export function parseSelenePairwise(text: string, strict = false, context?: ParseContext): PairwiseParse {
  const found = resultLine(text, strict, context);
  if ("ok" in found) return found;
  if (found.value !== "A" && found.value !== "B") return failure(text, `result "${found.value}" is not A or B`);
  return { ok: true, feedback: reasoning(text, found.match.index), winner: found.value };
}

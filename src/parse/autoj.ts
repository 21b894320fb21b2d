import type { AbsoluteParse, ParseFailure, ScoreRange } from "./types.js";
import { feedbackBefore, findFinalVerdict } from "./verdict.js";

const MARKER = /\bRATING\b/gi;
/** Auto-J's verdict after "Rating": `: [[6]]`, `: [[6.5]]`, `: 7`, `: [[4]].` */
const TAIL = /^:? ?(?:\[\[ ?(\d+(?:\.\d+)?) ?\]\]|(\d+(?:\.\d+)?)) ?[.!]?$/i;

function failure(raw: string, error: string): ParseFailure {
  return { ok: false, error, raw };
}

/** Auto-J ratings run 1-10 and may be half points (6.5). */
export function parseAutoJ(text: string, range: ScoreRange = { min: 1, max: 10 }): AbsoluteParse {
  const raw = text;
  if (text.trim() === "") return failure(raw, "empty output");
  const verdict = findFinalVerdict(text, MARKER, TAIL);
  if (!verdict.found) return failure(raw, 'no rating at the end of the output (expected "Rating: [[n]]")');
  const score = Number(verdict.value[1] ?? verdict.value[2]);
  if (score < range.min || score > range.max) return failure(raw, `rating ${score} is outside ${range.min}-${range.max}`);
  return { ok: true, feedback: feedbackBefore(text, verdict.start), score };
}

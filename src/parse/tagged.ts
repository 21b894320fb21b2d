/**
 * Verdicts in XML-like tags.
 * - Flow Judge (flowaicom/flow-judge@9865fc059098499c5b27b3ffbfb4c926b172f1aa,
 *   flow_judge/eval_data_types.py EvalOutput.parse): the first `<feedback>…</feedback>` and the
 *   first `<score>\s*(\d+)\s*</score>`; both are required.
 * `strict`: the score tag must close the output.
 */
import { labelMatches, withoutQuoted, type ParseContext } from "./quoted.js";
import type { AbsoluteParse, ParseFailure, ScoreRange } from "./types.js";

function failure(raw: string, error: string): ParseFailure {
  return { ok: false, error, raw };
}

/** The text of the first `<tag>…</tag>`, trimmed (Python's lazy `<tag>\s*(.*?)\s*</tag>`). */
export function firstTag(text: string, tag: string): string | undefined {
  const open = text.indexOf(`<${tag}>`);
  if (open < 0) return undefined;
  const close = text.indexOf(`</${tag}>`, open + tag.length + 2);
  return close < 0 ? undefined : text.slice(open + tag.length + 2, close).trim();
}

// \s and \d never overlap, so this stays linear.
const SCORE_TAG = /<score>\s*(\d+)\s*<\/score>/g;

export function parseFlowJudge(text: string, range: ScoreRange, strict = false, context?: ParseContext): AbsoluteParse {
  const feedback = firstTag(text, "feedback");
  if (feedback === undefined) return failure(text, "no <feedback>…</feedback> in the output");
  const matches = labelMatches(text, SCORE_TAG);
  const match = withoutQuoted(context, (keep) => matches.find(keep));
  if (!match) return failure(text, `no <score>n</score> in the output (n in ${range.min}-${range.max})`);
  if (strict && text.slice(match.index + match.text.length).trim() !== "") return failure(text, "the <score> tag does not close the output");
  const score = Number(match.value);
  if (score < range.min || score > range.max) return failure(text, `score ${score} is outside ${range.min}-${range.max}`);
  return { ok: true, feedback, score };
}

import { jsonFeedback, jsonObjectOutput } from "./json-verdict.js";
import type { AbsoluteParse, ParseFailure, ScoreRange } from "./types.js";
import { feedbackBefore, findFinalVerdict } from "./verdict.js";

/** `[RESULT]`, `[SCORE]`, or a bare `Result:` / `Score:` / `Rating:` (a bare word needs its colon: "a score 5." is prose). */
const MARKER = /\[ {0,2}(?:RESULT|SCORE) {0,2}\]|\b(?:RESULT|SCORE|RATING)(?=(?:\*\*|__)?[ \t]{0,3}[:=])/gi;
/**
 * What may follow the last marker (bold removed, whitespace collapsed): `4`, `: 4`, `(4)`, `4.`,
 * `Score: 1.`, `8/10`, `4 out of 5`, `[2]`.
 */
const TAIL = /^[:=]? ?(?:score ?[:=]? ?)?[([]? ?(\d+(?:\.\d+)?) ?(?:(?:\/|out of) ?(\d+) ?)?[)\]]? ?(?:(?:\/|out of) ?(\d+) ?)?[.!]?$/i;

function failure(raw: string, error: string): ParseFailure {
  return { ok: false, error, raw };
}

function checkScore(raw: string, value: number, range: ScoreRange, outOf?: number): ParseFailure | undefined {
  if (!Number.isInteger(value)) return failure(raw, `score ${value} is not an integer`);
  if (outOf !== undefined && outOf !== range.max) {
    return failure(raw, `score is given out of ${outOf} but the scale is ${range.min}-${range.max}`);
  }
  if (value < range.min || value > range.max) return failure(raw, `score ${value} is outside ${range.min}-${range.max}`);
  return undefined;
}

function parseJson(raw: string, value: Record<string, unknown>, range: ScoreRange): AbsoluteParse {
  const feedback = jsonFeedback(value);
  if (typeof feedback !== "string") return failure(raw, feedback.error);
  const score = typeof value.score === "string" && value.score.trim() !== "" ? Number(value.score) : value.score;
  if (typeof score !== "number" || Number.isNaN(score)) return failure(raw, 'JSON output has no numeric "score"');
  return checkScore(raw, score, range) ?? { ok: true, feedback, score };
}

/**
 * Reads feedback and a score from an absolute-grading output: text ending in a verdict marker and
 * a score (Prometheus `[RESULT] n`, Criticon `[SCORE] n` and common variants), or a JSON object
 * `{"feedback": "...", "score": n}`. Scores must be integers within `range`.
 */
export function parseAbsolute(text: string, range: ScoreRange): AbsoluteParse {
  const raw = text;
  if (text.trim() === "") return failure(raw, "empty output");
  const json = jsonObjectOutput(text);
  if (json && "error" in json) return failure(raw, json.error);
  if (json) return parseJson(raw, json.value, range);

  const verdict = findFinalVerdict(text, MARKER, TAIL);
  if (!verdict.found) {
    return failure(
      raw,
      verdict.sawMarker
        ? "a verdict marker appears but more text follows it; only a verdict at the end of the output counts"
        : `no verdict at the end of the output (expected "[RESULT] n" with n in ${range.min}-${range.max})`,
    );
  }
  const value = Number(verdict.value[1]);
  const outOf = verdict.value[2] ?? verdict.value[3];
  const problem = checkScore(raw, value, range, outOf === undefined ? undefined : Number(outOf));
  if (problem) return problem;
  return { ok: true, feedback: feedbackBefore(text, verdict.start), score: value };
}

/**
 * Verdicts in double brackets, as MT-Bench (`[[8]]`, `[[A]]`/`[[B]]`/`[[C]]`) and Arena-Hard
 * (`[[A>>B]]` … `[[B>>A]]`) judges write them. Only the closing line counts: a verdict quoted from the
 * judged text, or written mid-way, is followed by more text and is never taken. Within the closing
 * line the last bracketed verdict wins, with whatever quoting and punctuation surrounds it
 * (`"Rating: [[8]]".`, `My final verdict is tie: [[A=B]]`, a bare `[[1]]`).
 */
import type { AbsoluteParse, PairwiseParse, ParseFailure, ScoreRange } from "./types.js";
import { jsonFeedback, jsonObjectOutput } from "./json-verdict.js";
import { feedbackBefore } from "./verdict.js";

/** `[[x]]` with up to 8 characters inside (bounded, so matching stays linear). */
const BRACKETED = /\[\[ {0,2}([^[\]\n]{1,8}?) {0,2}\]\]/g;
/** FastChat's fallback `[8]`, accepted only right after a "Rating" label. */
const SINGLE = /\brating\b[^[\]\n]{0,12}\[ {0,2}(\d{1,2}(?:\.\d{1,2})?) {0,2}\]/gi;
/** A label left at the end of the feedback once the verdict is cut off. */
const TRAILING_LABEL = /(?:[(["'*_ ]{0,4})(?:(?:therefore|so|thus|hence|overall),? {0,2})?(?:my )?(?:final )?(?:verdict|rating|score|decision)(?: is)?(?: [a-z ,]{0,40})?[:=]?[ "'*_(]{0,4}$/i;

function failure(raw: string, error: string): ParseFailure {
  return { ok: false, error, raw };
}

interface Closing {
  /** Offset of the closing line in the text. */
  start: number;
  line: string;
}

function closingLine(text: string): Closing | undefined {
  const body = text.trimEnd();
  if (body === "") return undefined;
  const start = body.lastIndexOf("\n") + 1;
  return { start, line: body.slice(start) };
}

function lastMatch(line: string, pattern: RegExp): RegExpExecArray | undefined {
  let last: RegExpExecArray | undefined;
  for (const match of line.matchAll(pattern)) last = match as RegExpExecArray;
  return last;
}

export function feedbackUpTo(text: string, end: number): string {
  let feedback = feedbackBefore(text, end);
  for (let i = 0; i < 3; i++) {
    const stripped = feedback.replace(TRAILING_LABEL, "").trimEnd();
    if (stripped === feedback) break;
    feedback = stripped;
  }
  return feedback;
}

function noVerdict(text: string, expected: string): ParseFailure {
  const quotedEarlier = /\[\[[^[\]\n]{1,8}\]\]/.test(text);
  return failure(
    text,
    quotedEarlier
      ? `a verdict in [[ ]] appears but not in the closing line; only a verdict in the last line counts (expected ${expected})`
      : `no verdict in the closing line (expected ${expected})`,
  );
}

/** MT-Bench single grading: a 1-10 rating as `[[n]]` (half points allowed, as FastChat reads them). */
export function parseBracketedScore(text: string, range: ScoreRange): AbsoluteParse {
  if (text.trim() === "") return failure(text, "empty output");
  const json = jsonObjectOutput(text);
  if (json) {
    if ("error" in json) return failure(text, json.error);
    const feedback = jsonFeedback(json.value);
    if (typeof feedback !== "string") return failure(text, feedback.error);
    const score = Number(json.value.score);
    if (typeof json.value.score !== "number" && typeof json.value.score !== "string") return failure(text, 'JSON output has no numeric "score"');
    if (Number.isNaN(score) || score < range.min || score > range.max) return failure(text, `score ${String(json.value.score)} is outside ${range.min}-${range.max}`);
    return { ok: true, feedback, score };
  }
  const closing = closingLine(text);
  const line = closing?.line ?? "";
  const match = lastMatch(line, BRACKETED) ?? lastMatch(line, SINGLE);
  if (!closing || !match) return noVerdict(text, `"Rating: [[n]]" with n in ${range.min}-${range.max}`);
  const value = match[1]!.trim();
  if (!/^\d{1,2}(?:\.\d{1,2})?$/.test(value)) return failure(text, `the closing verdict [[${value}]] is not a rating`);
  const score = Number(value);
  if (score < range.min || score > range.max) return failure(text, `rating ${score} is outside ${range.min}-${range.max}`);
  return { ok: true, feedback: feedbackUpTo(text, closing.start + match.index), score };
}

const MT_BENCH_VERDICTS: Record<string, "A" | "B" | "tie"> = { A: "A", B: "B", C: "tie" };
const ARENA_HARD_VERDICTS: Record<string, "A" | "B" | "tie"> = { "A>>B": "A", "A>B": "A", "A=B": "tie", "B>A": "B", "B>>A": "B" };

/**
 * MT-Bench pairwise (`[[A]]`, `[[B]]`, `[[C]]` = tie) or Arena-Hard (five levels; the level is kept
 * as `verdict`, e.g. "B>>A").
 */
export function parseBracketedVerdict(text: string, format: "mt-bench-pairwise" | "arena-hard"): PairwiseParse {
  if (text.trim() === "") return failure(text, "empty output");
  const table = format === "arena-hard" ? ARENA_HARD_VERDICTS : MT_BENCH_VERDICTS;
  const expected = format === "arena-hard" ? "[[A>>B]], [[A>B]], [[A=B]], [[B>A]] or [[B>>A]]" : "[[A]], [[B]] or [[C]]";
  const json = jsonObjectOutput(text);
  if (json) {
    if ("error" in json) return failure(text, json.error);
    const feedback = jsonFeedback(json.value);
    if (typeof feedback !== "string") return failure(text, feedback.error);
    if (format === "arena-hard") {
      const level = String(json.value.verdict ?? "").replace(/ /g, "").toUpperCase();
      const winner = ARENA_HARD_VERDICTS[level];
      return winner ? { ok: true, feedback, winner, verdict: level } : failure(text, `JSON output needs "verdict": one of ${expected}`);
    }
    const given = String(json.value.winner ?? "").trim();
    const winner = given === "tie" ? "tie" : MT_BENCH_VERDICTS[given.toUpperCase()];
    return winner ? { ok: true, feedback, winner } : failure(text, 'JSON output needs "winner": "A", "B" or "tie"');
  }
  const closing = closingLine(text);
  const match = closing ? lastMatch(closing.line, BRACKETED) : undefined;
  if (!closing || !match) return noVerdict(text, expected);
  const label = match[1]!.replace(/ /g, "").toUpperCase();
  const winner = table[label];
  if (!winner) return failure(text, `the closing verdict [[${match[1]!.trim()}]] is not one of ${expected}`);
  const feedback = feedbackUpTo(text, closing.start + match.index);
  return format === "arena-hard" ? { ok: true, feedback, winner, verdict: label } : { ok: true, feedback, winner };
}

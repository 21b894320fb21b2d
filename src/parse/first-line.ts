/**
 * Verdicts on the first line of the output, read as the authors' code reads them.
 * - JudgeLM parse_score (baaivision/JudgeLM@00c45169de47641f62223f57cc15b608bc3cc69d,
 *   judgelm/llm_judge/common.py): the first line, commas made spaces, split on single spaces into
 *   exactly two numbers; translate_score_to_win_list (T=0) makes the higher score the winner, equal
 *   scores a tie.
 * - PandaLM parse_pandalm_response (WeOpenML/PandaLM@3871806e72b4832f815ecafd24d3503c73403f48,
 *   pandalm/utils/pandalm_inference.py): the stripped output's first line is `1`, `2` or `Tie`
 *   (any case). PandaLM reads anything else as a tie; critic records it as a failure.
 * The rest of the output is the feedback. The first line is a position, not a label, so a verdict
 * quoted from the judged text cannot stand in for it.
 */
import type { PairwiseParse, ParseFailure, ScoreRange } from "./types.js";

function failure(raw: string, error: string): ParseFailure {
  return { ok: false, error, raw };
}

/** Python float() of a token without inner spaces (inf and nan are not scores). */
const PY_FLOAT = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?\s*$/i;

export function parseJudgeLM(text: string, range: ScoreRange = { min: 1, max: 10 }): PairwiseParse {
  const newline = text.indexOf("\n");
  const first = newline < 0 ? text : text.slice(0, newline);
  const parts = first.replace(/,/g, " ").split(" ");
  if (parts.length !== 2 || !parts.every((part) => PY_FLOAT.test(part))) {
    return failure(text, 'the first line is not two scores ("s1 s2", one space between them)');
  }
  const [a, b] = parts.map(Number) as [number, number];
  for (const score of [a, b]) {
    if (score < range.min || score > range.max) return failure(text, `score ${score} is outside ${range.min}-${range.max}`);
  }
  const feedback = newline < 0 ? "" : text.slice(newline + 1).trim();
  return { ok: true, feedback, winner: a > b ? "A" : b > a ? "B" : "tie" };
}

export function parsePandaLM(text: string): PairwiseParse {
  const body = text.trim();
  const newline = body.indexOf("\n");
  const first = newline < 0 ? body : body.slice(0, newline);
  const feedback = newline < 0 ? "" : body.slice(newline + 1).trim();
  if (first === "1") return { ok: true, feedback, winner: "A" };
  if (first === "2") return { ok: true, feedback, winner: "B" };
  if (first.toLowerCase() === "tie") return { ok: true, feedback, winner: "tie" };
  return failure(text, 'the first line is not "1", "2" or "Tie"');
}

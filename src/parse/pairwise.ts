import { jsonFeedback, jsonObjectOutput } from "./json-verdict.js";
import type { PairwiseParse, ParseFailure } from "./types.js";
import { feedbackBefore, findFinalVerdict } from "./verdict.js";

const MARKER = /\[ {0,2}RESULT {0,2}\]|\bRESULT(?=(?:\*\*|__)?[ \t]{0,3}[:=])/gi;
/** What may follow the last marker: `A`, `: B`, `Response A`, `(B)`, `B.`. */
const TAIL = /^[:=]? ?[([]? ?(?:response ?)?([AB]) ?[)\]]? ?[.!]?$/i;

function failure(raw: string, error: string): ParseFailure {
  return { ok: false, error, raw };
}

/**
 * Reads feedback and the preferred response from a pairwise output: text ending in `[RESULT] A|B`
 * (and common variants), or a JSON object `{"feedback": "...", "winner": "A"}`.
 */
export function parsePairwise(text: string): PairwiseParse {
  const raw = text;
  if (text.trim() === "") return failure(raw, "empty output");
  const json = jsonObjectOutput(text);
  if (json && "error" in json) return failure(raw, json.error);
  if (json) {
    const feedback = jsonFeedback(json.value);
    if (typeof feedback !== "string") return failure(raw, feedback.error);
    const winner = typeof json.value.winner === "string" ? json.value.winner.trim().toUpperCase() : undefined;
    if (winner !== "A" && winner !== "B") return failure(raw, 'JSON output needs "winner": "A" or "B"');
    return { ok: true, feedback, winner };
  }
  const verdict = findFinalVerdict(text, MARKER, TAIL);
  if (!verdict.found) {
    return failure(
      raw,
      verdict.sawMarker
        ? "a [RESULT] marker appears but is not followed by A or B at the end of the output"
        : 'no verdict at the end of the output (expected "[RESULT] A" or "[RESULT] B")',
    );
  }
  return { ok: true, feedback: feedbackBefore(text, verdict.start), winner: verdict.value[1]!.toUpperCase() as "A" | "B" };
}

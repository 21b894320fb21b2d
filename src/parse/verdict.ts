/**
 * Finding the verdict at the end of a judge's output without regex backtracking: judge outputs
 * echo untrusted text, so every pattern here runs in linear time (bounded quantifiers only, and
 * the tail is normalised before it is matched against an anchored pattern).
 */

export type VerdictSearch =
  | { found: true; start: number; value: RegExpExecArray }
  | { found: false; sawMarker: boolean };

/** Bold markers removed and whitespace collapsed, so tail patterns need no `\s*`. */
export function normalizeTail(text: string): string {
  return text.replace(/\*\*|__/g, "").replace(/\s+/g, " ").trim();
}

/**
 * Finds the last marker in `text` and reads the verdict after it with `tailPattern` (anchored,
 * matched against the normalised tail). Only the last marker counts: a marker quoted earlier is
 * followed by more text, so it can never be the verdict. A bracketed marker right before the last
 * one (`[RESULT] Score: 1`) belongs to the same verdict.
 */
export function findFinalVerdict(text: string, marker: RegExp, tailPattern: RegExp): VerdictSearch {
  const hits = [...text.matchAll(marker)];
  const last = hits.at(-1);
  if (!last) return { found: false, sawMarker: false };
  const value = tailPattern.exec(normalizeTail(text.slice(last.index + last[0].length)));
  if (!value) return { found: false, sawMarker: true };
  let start = last.index;
  const previous = hits.at(-2);
  if (previous) {
    const between = normalizeTail(text.slice(previous.index + previous[0].length, start));
    if (between === "" || between === ":") start = previous.index;
  }
  return { found: true, start, value };
}

/** Feedback is the text before the verdict, trimmed, without a leading "Feedback:" label or trailing markup. */
export function feedbackBefore(text: string, end: number): string {
  let feedback = text.slice(0, end).trim();
  for (;;) {
    const stripped = feedback.replace(/(?:\*\*|__|#{1,6})$/, "").trimEnd();
    if (stripped === feedback) break;
    feedback = stripped;
  }
  return feedback.replace(/^(?:\*\*|__)?[ \t]{0,3}(?:#{1,3}[ \t]{0,3})?feedback[ \t]{0,3}(?:\*\*|__)?[ \t]{0,3}:[ \t]{0,3}(?:\*\*|__)?/i, "").trim();
}

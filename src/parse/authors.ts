/**
 * Each published format read the way its authors' code reads it, so critic's numbers match theirs.
 * The rules, and the commit each was read at:
 * - FastChat `run_judge_single` (lm-sys/FastChat@0e6d3e4beaab66f4d3f93db72541a4abab8af28d,
 *   fastchat/llm_judge/common.py): the first `[[n]]`, else the first `[n]`; n may be a decimal.
 * - FastChat `run_judge_pair` (same file): `[[A]]` anywhere, else `[[B]]`, else `[[C]]` (a tie).
 * - Arena-Hard-Auto v2.0 `get_score` (lmarena/arena-hard-auto@196f6b826783b3da7310e361a805fa36f0be83f3,
 *   gen_judgment.py with config/arena-hard-v2.0.yaml's regex_patterns): the output upper-cased, every
 *   `[[label]]`, else every `[label]`; the last one wins; show_result.py reads ten labels
 *   (A>B, A>>B, A=B, A<<B, A<B and the B-first forms).
 * - Arena-Hard-Auto v0.1 `get_score` (lmarena/arena-hard-auto@4ce0f0087776158a4461162cbef1d9bb5464bb57,
 *   gen_judgment.py, config/judge_config.yaml's regex_pattern): every `[[label]]` must be the same
 *   label, else no verdict; show_result.py counts five labels.
 * - Auto-J `extract_single_rating` (GAIR-NLP/auto-j@2ae17a3965d933232e9cd50302aa0f176249c83b,
 *   codes/usage/example.py): the number between the last `Rating: [[` and the `]]` after it.
 * - Prometheus `parse_output` (prometheus-eval/prometheus-eval@62a85d118c497d17c1dddf1dbe61de1a77812fc9,
 *   libs/prometheus-eval/prometheus_eval/parser.py): absolute, a marker and the score ending the
 *   output; relative, the first `[RESULT] A|B` (and variants) ending a line.
 * Departures, all in the direction of refusing: a value outside the scale is a failure (the authors
 * keep it, or default to 0), a label quoted from the judged text does not outvote the judge's own
 * (see quoted.ts), and a reasoning block is left out (see reasoning.ts).
 */
import { feedbackUpTo } from "./bracketed.js";
import { labelMatches, withoutQuoted, type LabelMatch, type ParseContext } from "./quoted.js";
import type { AbsoluteParse, PairwiseParse, ParseFailure, ScoreRange } from "./types.js";

function failure(raw: string, error: string): ParseFailure {
  return { ok: false, error, raw };
}

/** The text around the verdict: what came before it, and any explanation written after it. */
export function feedbackAround(text: string, match: LabelMatch): string {
  const before = feedbackUpTo(text, match.index);
  const after = text.slice(match.index + match.text.length).replace(/^[\s"'*_.,;:!)\]]+/, "").trim();
  return after === "" ? before : before === "" ? after : `${before}\n\n${after}`;
}

/** A rating as Python's ast.literal_eval reads `\d+\.?\d*`: an integer with a leading zero does not parse. */
function pythonNumber(value: string): number | undefined {
  if (/^0\d+$/.test(value)) return undefined;
  return Number(value);
}

function checkRange(text: string, score: number, range: ScoreRange, what: string): ParseFailure | undefined {
  if (Number.isNaN(score)) return failure(text, `${what} is not a number`);
  if (score < range.min || score > range.max) return failure(text, `rating ${score} is outside ${range.min}-${range.max}`);
  return undefined;
}

// Bounded digit runs keep matching linear; FastChat's `\d+\.?\d*` reads the same values up to 12 digits.
const FASTCHAT_DOUBLE = /\[\[(\d{1,6}\.?\d{0,6})\]\]/g;
const FASTCHAT_SINGLE = /\[(\d{1,6}\.?\d{0,6})\]/g;

export function parseFastChatRating(text: string, range: ScoreRange, context?: ParseContext): AbsoluteParse {
  const doubles = labelMatches(text, FASTCHAT_DOUBLE);
  const singles = labelMatches(text, FASTCHAT_SINGLE);
  const match = withoutQuoted(context, (keep) => doubles.find(keep) ?? singles.find(keep));
  if (!match) return failure(text, `no rating in the output (expected "[[n]]" or "[n]" with n in ${range.min}-${range.max})`);
  const score = pythonNumber(match.value);
  if (score === undefined) return failure(text, `rating ${match.text} does not parse as a Python number`);
  return checkRange(text, score, range, `rating ${match.text}`) ?? { ok: true, feedback: feedbackAround(text, match), score };
}

const FASTCHAT_PAIR = /\[\[([ABC])\]\]/g;
const FASTCHAT_WINNERS = { A: "A", B: "B", C: "tie" } as const;

export function parseFastChatPair(text: string, context?: ParseContext): PairwiseParse {
  const matches = labelMatches(text, FASTCHAT_PAIR);
  const match = withoutQuoted(context, (keep) => {
    const kept = matches.filter(keep);
    for (const label of ["A", "B", "C"]) {
      const found = kept.find((m) => m.value === label);
      if (found) return found;
    }
    return undefined;
  });
  if (!match) return failure(text, "no verdict in the output (expected [[A]], [[B]] or [[C]])");
  return { ok: true, feedback: feedbackAround(text, match), winner: FASTCHAT_WINNERS[match.value as "A" | "B" | "C"] };
}

/** Arena-Hard v2.0 labels as show_result.py scores them, in the five-level form. */
const ARENA_HARD_V2_LABELS: Record<string, string> = {
  "A>>B": "A>>B", "A>B": "A>B", "A=B": "A=B", "B>A": "B>A", "B>>A": "B>>A",
  "B<<A": "A>>B", "B<A": "A>B", "B=A": "A=B", "A<B": "B>A", "A<<B": "B>>A",
};
const ARENA_HARD_FIVE = new Set(["A>>B", "A>B", "A=B", "B>A", "B>>A"]);
const WINNER_OF: Record<string, "A" | "B" | "tie"> = { "A>>B": "A", "A>B": "A", "A=B": "tie", "B>A": "B", "B>>A": "B" };
const EXPECTED_LEVELS = "[[A>>B]], [[A>B]], [[A=B]], [[B>A]] or [[B>>A]]";

// Case-insensitive, as get_score matches the upper-cased output; `[AB<>=]+` never crosses a bracket, so it stays linear.
const ARENA_DOUBLE = /\[\[([AB<>=]+)\]\]/gi;
const ARENA_SINGLE = /\[([AB<>=]+)\]/gi;

function arenaVerdict(text: string, match: LabelMatch, level: string | undefined): PairwiseParse {
  if (level === undefined) return failure(text, `the verdict ${match.text} is not one of ${EXPECTED_LEVELS}`);
  return { ok: true, feedback: feedbackAround(text, match), winner: WINNER_OF[level]!, verdict: level };
}

export function parseArenaHardV2(text: string, context?: ParseContext): PairwiseParse {
  const doubles = labelMatches(text, ARENA_DOUBLE);
  const singles = labelMatches(text, ARENA_SINGLE);
  const match = withoutQuoted(context, (keep) => doubles.filter(keep).at(-1) ?? singles.filter(keep).at(-1));
  if (!match) return failure(text, `no verdict in the output (expected ${EXPECTED_LEVELS})`);
  return arenaVerdict(text, match, ARENA_HARD_V2_LABELS[match.value.toUpperCase()]);
}

const ARENA_DOUBLE_V01 = /\[\[([AB<>=]+)\]\]/g;

export function parseArenaHardV01(text: string, context?: ParseContext): PairwiseParse {
  const matches = labelMatches(text, ARENA_DOUBLE_V01);
  if (matches.length === 0) return failure(text, `no verdict in the output (expected ${EXPECTED_LEVELS})`);
  const match = withoutQuoted(context, (keep) => {
    const kept = matches.filter(keep);
    return kept.length > 0 && kept.every((m) => m.value === kept[0]!.value) ? kept.at(-1) : undefined;
  });
  if (!match) {
    const labels = [...new Set(matches.map((m) => m.text))].join(", ");
    return failure(text, `the output gives different verdicts (${labels}); Arena-Hard v0.1 takes a verdict only when all agree`);
  }
  return arenaVerdict(text, match, ARENA_HARD_FIVE.has(match.value) ? match.value : undefined);
}

const AUTOJ_RATING = "Rating: [[";

export function parseAutoJRating(text: string, range: ScoreRange, context?: ParseContext): AbsoluteParse {
  const matches: LabelMatch[] = [];
  let end = -1;
  for (let at = text.indexOf(AUTOJ_RATING); at >= 0; at = text.indexOf(AUTOJ_RATING, at + 1)) {
    if (end < at) end = text.indexOf("]]", at);
    if (end < 0) break;
    matches.push({ text: text.slice(at, end + 2), value: text.slice(at + AUTOJ_RATING.length, end).trim(), index: at });
  }
  if (text.lastIndexOf(AUTOJ_RATING) > (matches.at(-1)?.index ?? -1)) {
    return failure(text, 'the last "Rating: [[" is never closed with "]]"');
  }
  const match = withoutQuoted(context, (keep) => matches.filter(keep).at(-1));
  if (!match) return failure(text, `no rating in the output (expected "Rating: [[n]]" with n in ${range.min}-${range.max})`);
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)$/.test(match.value)) return failure(text, `rating "${match.value}" is not a number`);
  return checkRange(text, Number(match.value), range, `rating ${match.text}`) ?? { ok: true, feedback: feedbackAround(text, match), score: Number(match.value) };
}

const AUTOJ_DECISION = "final decision is ";
const AUTOJ_WINNERS: [string, "A" | "B" | "tie"][] = [["response 1", "A"], ["response 2", "B"], ["tie", "tie"]];

/**
 * Auto-J pairwise, extract_pariwise_result (GAIR-NLP/auto-j@2ae17a3965d933232e9cd50302aa0f176249c83b,
 * codes/usage/example.py): after the last "final decision is ", lower-cased, "response 1", "response 2"
 * or "tie". `strict`: that decision is in the closing line.
 */
export function parseAutoJPairwise(text: string, strict = false, context?: ParseContext): PairwiseParse {
  const matches: LabelMatch[] = [];
  for (let at = text.indexOf(AUTOJ_DECISION); at >= 0; at = text.indexOf(AUTOJ_DECISION, at + 1)) {
    const after = text.slice(at + AUTOJ_DECISION.length, at + AUTOJ_DECISION.length + 40);
    const rest = after.trim();
    const winner = AUTOJ_WINNERS.find(([prefix]) => rest.toLowerCase().startsWith(prefix));
    const label = winner ? rest.slice(0, winner[0].length) : "";
    matches.push({ text: `${AUTOJ_DECISION}${label}`, value: winner?.[1] ?? "", index: at });
  }
  const match = withoutQuoted(context, (keep) => matches.filter(keep).at(-1));
  if (!match) return failure(text, 'no decision in the output (expected "So, the final decision is Response 1 / Response 2 / Tie")');
  if (match.value === "") return failure(text, 'the last "final decision is" is not followed by Response 1, Response 2 or Tie');
  if (strict && text.slice(match.index).trim().includes("\n")) return failure(text, "the decision is not in the closing line");
  const start = text.lastIndexOf("\n", match.index) + 1;
  const feedback = text.slice(0, start).trim();
  return { ok: true, feedback: feedback === "" ? text.trim() : feedback, winner: match.value as "A" | "B" | "tie" };
}

const RM_R1_LABEL = /\[\[([AB])\]\]/g;

/**
 * RM-R1, process_judgement's default branch (RM-R1-UIUC/RM-R1@d4c2542f0608e019074b9b2322fe6502e6ab7ab0,
 * eval/reward-bench/rewardbench/generative.py): `[[A]]` and `[[B]]` both present is an error ("Prevent
 * Hacking"), else the one present. critic reads the answer after the reasoning, so labels in the
 * `<think>` block do not count. `strict`: the output ends with `<answer>[[X]]</answer>`.
 */
export function parseRmR1(text: string, strict = false, context?: ParseContext): PairwiseParse {
  const matches = labelMatches(text, RM_R1_LABEL);
  const match = withoutQuoted(context, (keep) => {
    const kept = matches.filter(keep);
    const labels = new Set(kept.map((m) => m.value));
    return labels.size === 1 ? kept.at(-1) : undefined;
  });
  if (!match) {
    return failure(text, matches.length === 0 ? "no verdict in the output (expected <answer>[[A]]</answer> or <answer>[[B]]</answer>)" : "the output gives both [[A]] and [[B]]; RM-R1 reads that as no verdict");
  }
  if (strict && !/<answer>\s*\[\[[AB]\]\]\s*<\/answer>$/.test(text.trimEnd())) return failure(text, "the output does not end with <answer>[[A]]</answer> or <answer>[[B]]</answer>");
  const feedback = text.slice(0, match.index).replace(/<answer>\s*$/, "").trim();
  return { ok: true, feedback, winner: match.value as "A" | "B" };
}

/*
 * Prometheus, parse_output (prometheus-eval/prometheus-eval@62a85d118c497d17c1dddf1dbe61de1a77812fc9,
 * libs/prometheus-eval/prometheus_eval/parser.py). The patterns are the authors', rewritten so that
 * matching stays linear: `\s*(?:\(|\[|\s)*` is `[\s([]*` and `\[RESULT:\s*` + `\s*` is one `\s*`
 * (the same strings match). Digits are ASCII (Python's `\d` also takes other scripts' digits).
 */

/**
 * Absolute (_parse_output_absolute): `[RESULT]`, `[SCORE]`, `Score`, `Result`, `[Result]` (each with
 * an optional colon) or `score of`, then the number, then `)`, `]`, `/5` or `out of 5`, then only
 * whitespace to the end. critic reads `/n` and `out of n` with n the template's scale maximum (5 for
 * Prometheus' own templates). The verdict must end the output, so there is only one to read and a
 * verdict quoted from the judged text earlier in the output is never taken.
 */
function prometheusAbsolutePattern(max: number): RegExp {
  return new RegExp(
    String.raw`(?:\[RESULT\]|\[SCORE\]|Score:?|Result:?|\[Result\]:?|score\s+of)[\s([]*(\d+)(?:[)\]]|/\s*${max}|\s*out\s*of\s*${max})?\s*$`,
    "i",
  );
}

export function parsePrometheusAbsolute(text: string, range: ScoreRange): AbsoluteParse {
  const match = prometheusAbsolutePattern(range.max).exec(text);
  if (!match) return failure(text, `no verdict at the end of the output (expected "[RESULT] n" with n in ${range.min}-${range.max}, and nothing after it)`);
  const label: LabelMatch = { text: match[0].trim(), value: match[1]!, index: match.index };
  const score = Number(label.value);
  if (score < range.min || score > range.max) return failure(text, `score ${score} is outside ${range.min}-${range.max}`);
  return { ok: true, feedback: feedbackAround(text, label), score };
}

/**
 * Relative (_parse_output_relative): `[RESULT] A`, `[RESULT: B]`, `[Response A]`, `[Result] Response B`,
 * `Result: A` at the start of a line and the like, at the end of a line (the pattern is MULTILINE);
 * the first such verdict wins. Case-insensitive, so `[RESULT] b` is B.
 */
const PROMETHEUS_RELATIVE = /(?:\[RESULT\]|\[RESULT:|\[Response\s|\[Result\](?:\s+Response)?|\[Result:|(?:^|\n)Result:?)\s*(A|B)\]?\s*(?=\n|$)/gi;

export function parsePrometheusRelative(text: string, context?: ParseContext): PairwiseParse {
  const matches = labelMatches(text, PROMETHEUS_RELATIVE).map((m) => {
    const lead = m.text.startsWith("\n") ? 1 : 0;
    return { text: m.text.slice(lead).trimEnd(), value: m.value.toUpperCase(), index: m.index + lead };
  });
  const match = withoutQuoted(context, (keep) => matches.find(keep));
  if (!match) return failure(text, 'no verdict in the output (expected "[RESULT] A" or "[RESULT] B" at the end of a line)');
  return { ok: true, feedback: feedbackAround(text, match), winner: match.value as "A" | "B" };
}

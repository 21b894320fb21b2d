import { parseAbsolute } from "./absolute.js";
import { parseArenaHardV01, parseArenaHardV2, parseAutoJPairwise, parseAutoJRating, parseRmR1, parseFastChatPair, parseFastChatRating, parsePrometheusAbsolute, parsePrometheusRelative } from "./authors.js";
import { parseAutoJ } from "./autoj.js";
import { parseBracketedScore, parseBracketedVerdict } from "./bracketed.js";
import { jsonObjectOutput } from "./json-verdict.js";
import { parsePairwise } from "./pairwise.js";
import { parseAlpacaEvalRanking, parseAlpacaEvalToken } from "./alpaca-eval.js";
import { parseJudgeLM, parsePandaLM } from "./first-line.js";
import { parseFlowJudge } from "./tagged.js";
import { parseSeleneClassification, parseSelenePairwise, parseSeleneScore } from "./selene.js";
import type { ParseContext } from "./quoted.js";
import { splitReasoning } from "./reasoning.js";
import { stripEndTokens } from "./special-tokens.js";
import type { AbsoluteParse, PairwiseParse, ScoreRange } from "./types.js";

export { parseAbsolute } from "./absolute.js";
export { parseAutoJ } from "./autoj.js";
export { parsePairwise } from "./pairwise.js";
export { parseBracketedScore, parseBracketedVerdict } from "./bracketed.js";
export { parseArenaHardV01, parseArenaHardV2, parseAutoJRating, parseFastChatPair, parseFastChatRating, parsePrometheusAbsolute, parsePrometheusRelative } from "./authors.js";
export { splitReasoning } from "./reasoning.js";
export { END_TOKENS, stripEndTokens } from "./special-tokens.js";
export type { ParseContext } from "./quoted.js";
export type { AbsoluteParse, PairwiseParse, ParseFailure, ScoreRange } from "./types.js";

export type ParserName = "result" | "score" | "pairwise" | "autoj" | "mt-bench" | "mt-bench-pairwise" | "arena-hard" | "arena-hard-v0.1" | "selene" | "selene-classification" | "selene-pairwise" | "flow-judge" | "autoj-pairwise" | "judgelm" | "pandalm" | "alpaca-eval" | "alpaca-eval-logprob" | "rm-r1";
export type Parser = (text: string, context?: ParseContext) => AbsoluteParse | PairwiseParse;

/**
 * How verdicts are read. `authors` (the default): as the format's own code reads them (see
 * authors.ts), with quoted labels kept from outvoting the judge's own. `strict`: only a verdict in
 * the closing line counts.
 */
export type ParseMode = "authors" | "strict";
export const PARSE_MODES: readonly ParseMode[] = ["authors", "strict"];

export interface ParserOptions {
  mode?: ParseMode;
}

/**
 * The parser for a template's output format; absolute formats need the template's scale. A
 * reasoning block (`<think>…</think>`) and end tokens that leaked into the output are removed
 * first; a failure keeps the output as it came.
 */
export function getParser(name: ParserName, scale?: ScoreRange, options: ParserOptions = {}): Parser {
  const parse = formatParser(name, scale, options.mode ?? "authors");
  return (text, context) => {
    const split = splitReasoning(text);
    if ("error" in split) return { ok: false, error: split.error, raw: text };
    const answer = stripEndTokens(split.answer);
    if (answer === text.trimEnd()) return parse(text, context);
    const result = parse(answer, context);
    return result.ok ? result : { ...result, raw: text };
  };
}

function needScale(name: ParserName, scale: ScoreRange | undefined): ScoreRange {
  if (!scale) throw new Error(`parser "${name}" needs a score scale`);
  return scale;
}

function formatParser(name: ParserName, scale: ScoreRange | undefined, mode: ParseMode): Parser {
  const strict = mode === "strict";
  switch (name) {
    case "result": {
      const range = needScale(name, scale);
      return strict ? (text) => parseAbsolute(text, range) : (text) => jsonOr(text, () => parsePrometheusAbsolute(text, range), () => parseAbsolute(text, range));
    }
    case "score": {
      const range = needScale(name, scale);
      return (text) => parseAbsolute(text, range);
    }
    case "autoj": {
      const range = scale ?? { min: 1, max: 10 };
      return strict ? (text) => parseAutoJ(text, range) : (text, context) => parseAutoJRating(text, range, context);
    }
    case "pairwise":
      return strict ? parsePairwise : (text, context) => jsonOr(text, () => parsePrometheusRelative(text, context), () => parsePairwise(text));
    case "mt-bench": {
      const range = needScale(name, scale);
      return strict ? (text) => parseBracketedScore(text, range) : (text, context) => jsonOr(text, () => parseFastChatRating(text, range, context), () => parseBracketedScore(text, range));
    }
    case "mt-bench-pairwise":
      return strict ? (text) => parseBracketedVerdict(text, name) : (text, context) => jsonOr(text, () => parseFastChatPair(text, context), () => parseBracketedVerdict(text, name));
    case "arena-hard":
      return strict ? (text) => parseBracketedVerdict(text, name) : (text, context) => jsonOr(text, () => parseArenaHardV2(text, context), () => parseBracketedVerdict(text, name));
    case "arena-hard-v0.1":
      return strict ? (text) => parseBracketedVerdict(text, "arena-hard") : (text, context) => jsonOr(text, () => parseArenaHardV01(text, context), () => parseBracketedVerdict(text, "arena-hard"));
    case "selene": {
      const range = needScale(name, scale);
      return (text, context) => parseSeleneScore(text, range, strict, context);
    }
    case "selene-classification":
      return (text, context) => parseSeleneClassification(text, strict, context);
    case "selene-pairwise":
      return (text, context) => parseSelenePairwise(text, strict, context);
    case "rm-r1":
      return (text, context) => parseRmR1(text, strict, context);
    case "alpaca-eval":
      return parseAlpacaEvalRanking;
    case "alpaca-eval-logprob":
      return parseAlpacaEvalToken;
    case "autoj-pairwise":
      return (text, context) => parseAutoJPairwise(text, strict, context);
    case "judgelm":
      return (text) => parseJudgeLM(text, scale);
    case "pandalm":
      return parsePandaLM;
    case "flow-judge": {
      const range = needScale(name, scale);
      return (text, context) => parseFlowJudge(text, range, strict, context);
    }
    default:
      throw new Error(`unknown parser "${String(name)}"; parsers: result, score, pairwise, autoj, mt-bench, mt-bench-pairwise, arena-hard, arena-hard-v0.1, selene, selene-classification, selene-pairwise, flow-judge, autoj-pairwise, judgelm, pandalm, alpaca-eval, alpaca-eval-logprob, rm-r1`);
  }
}

/** A structured-output backend's JSON answer is read as JSON; anything else by the format's rule. */
function jsonOr<T>(text: string, rule: () => T, json: () => T): T {
  return jsonObjectOutput(text) === undefined ? rule() : json();
}

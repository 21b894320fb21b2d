import { parseAbsolute } from "./absolute.js";
import { parseAutoJ } from "./autoj.js";
import { parseBracketedScore, parseBracketedVerdict } from "./bracketed.js";
import { parsePairwise } from "./pairwise.js";
import { stripEndTokens } from "./special-tokens.js";
import type { AbsoluteParse, PairwiseParse, ScoreRange } from "./types.js";

export { parseAbsolute } from "./absolute.js";
export { parseAutoJ } from "./autoj.js";
export { parsePairwise } from "./pairwise.js";
export { parseBracketedScore, parseBracketedVerdict } from "./bracketed.js";
export { END_TOKENS, stripEndTokens } from "./special-tokens.js";
export type { AbsoluteParse, PairwiseParse, ParseFailure, ScoreRange } from "./types.js";

export type ParserName = "result" | "score" | "pairwise" | "autoj" | "mt-bench" | "mt-bench-pairwise" | "arena-hard";
export type Parser = (text: string) => AbsoluteParse | PairwiseParse;

/**
 * The parser for a template's output format; absolute formats need the template's scale. End
 * tokens that leaked into the output are removed first; a failure keeps the output as it came.
 */
export function getParser(name: ParserName, scale?: ScoreRange): Parser {
  const parse = formatParser(name, scale);
  return (text) => {
    const stripped = stripEndTokens(text);
    if (stripped === text.trimEnd()) return parse(text);
    const result = parse(stripped);
    return result.ok ? result : { ...result, raw: text };
  };
}

function formatParser(name: ParserName, scale?: ScoreRange): Parser {
  switch (name) {
    case "result":
    case "score": {
      if (!scale) throw new Error(`parser "${name}" needs a score scale`);
      return (text) => parseAbsolute(text, scale);
    }
    case "autoj":
      return (text) => parseAutoJ(text, scale);
    case "pairwise":
      return parsePairwise;
    case "mt-bench": {
      if (!scale) throw new Error(`parser "${name}" needs a score scale`);
      return (text) => parseBracketedScore(text, scale);
    }
    case "mt-bench-pairwise":
    case "arena-hard":
      return (text) => parseBracketedVerdict(text, name);
    default:
      throw new Error(`unknown parser "${String(name)}"; parsers: result, score, pairwise, autoj, mt-bench, mt-bench-pairwise, arena-hard`);
  }
}

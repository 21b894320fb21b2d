import { parseAbsolute } from "./absolute.js";
import { parseAutoJ } from "./autoj.js";
import { parsePairwise } from "./pairwise.js";
import type { AbsoluteParse, PairwiseParse, ScoreRange } from "./types.js";

export { parseAbsolute } from "./absolute.js";
export { parseAutoJ } from "./autoj.js";
export { parsePairwise } from "./pairwise.js";
export type { AbsoluteParse, PairwiseParse, ParseFailure, ScoreRange } from "./types.js";

export type ParserName = "result" | "score" | "pairwise" | "autoj";
export type Parser = (text: string) => AbsoluteParse | PairwiseParse;

/** The parser for a template's output format; absolute formats need the template's scale. */
export function getParser(name: ParserName, scale?: ScoreRange): Parser {
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
    default:
      throw new Error(`unknown parser "${String(name)}"; parsers: result, score, pairwise, autoj`);
  }
}

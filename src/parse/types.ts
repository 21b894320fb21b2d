/** A model output that could not be read: the raw text is kept, never replaced by a default. */
export interface ParseFailure {
  ok: false;
  error: string;
  raw: string;
}

export type AbsoluteParse = { ok: true; feedback: string; score: number } | ParseFailure;
/** `winner` is "tie" only for formats that have one (MT-Bench `[[C]]`, Arena-Hard `[[A=B]]`); `verdict` keeps Arena-Hard's level. */
export type PairwiseParse = { ok: true; feedback: string; winner: "A" | "B" | "tie"; verdict?: string } | ParseFailure;

export interface ScoreRange {
  min: number;
  max: number;
}

/** A model output that could not be read: the raw text is kept, never replaced by a default. */
export interface ParseFailure {
  ok: false;
  error: string;
  raw: string;
}

export type AbsoluteParse = { ok: true; feedback: string; score: number } | ParseFailure;
export type PairwiseParse = { ok: true; feedback: string; winner: "A" | "B" } | ParseFailure;

export interface ScoreRange {
  min: number;
  max: number;
}

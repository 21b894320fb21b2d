/** What /api/rows sends, shared by the server and the front end (types only: no Node or DOM). */

export interface LabelView {
  id: string;
  annotator: string;
  score?: number;
  winner?: "A" | "B" | "tie";
  note?: string;
  at: string;
}

/** One judge's verdict on a row of the table. */
export interface VerdictSummary {
  score: number | null;
  winner: string | null;
  failed: boolean;
  uncertainty: number | null;
}

export interface RowSummary {
  /** Position in the query's order. */
  i: number;
  row: number;
  id: string;
  line: number;
  prompt: string;
  response: string;
  responseB?: string;
  /** One per open file; null where that file has no judgment of the record. */
  verdicts: Array<VerdictSummary | null>;
  mine: LabelView | null;
  labels: number;
}

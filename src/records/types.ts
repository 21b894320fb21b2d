/** A dataset row as read from JSONL, CSV or Parquet, before validation. */
export type RawRecord = Record<string, unknown>;

/** A row with its position in the input: 1-based line (JSONL/CSV) or row number (Parquet). */
export interface SourcedRecord {
  /** 0-based index among all rows read, valid or not; output order follows it. */
  index: number;
  /** 1-based line or row number in the source file, for error messages. */
  line: number;
  record: RawRecord;
}

/** A row that could not be read or validated; written to the rejects file and skipped. */
export interface Reject {
  file: string;
  line: number;
  field?: string;
  reason: string;
  record?: RawRecord;
  /** The input ends early here (a cut-off .gz): the rows after it are lost, so the run fails. */
  truncated?: true;
}

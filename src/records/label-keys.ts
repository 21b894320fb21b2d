/**
 * The key a human label names its record by, shared by `critic view` (which writes labels),
 * `meta-eval --gold-file` and `export --labels` (which read them), so that all three join a label
 * to the same record.
 *
 * A record's base id is its `id` field, else its 0-based line number (labelIdOf). When two records
 * of a file share a base id (`"id":"a"` twice, `1` beside `"1"`, or a record without an id on
 * 0-based line 5 beside `"id":"5"`), a label under that id could belong to either: each such
 * record is then keyed `<id>@line<N>` (N: its 1-based line, or row for Parquet), and a label under
 * the bare id is used for none of them.
 */
import { labelIdOf, type LabelStore } from "./labels.js";
import { readRecords, type ReadOptions } from "./read.js";

export interface DuplicateId {
  id: string;
  /** 1-based lines (rows for Parquet) of the records that share it. */
  lines: number[];
}

export class LabelKeys {
  /** base id -> its line, or its lines when several records share it. */
  private readonly lines = new Map<string, number | number[]>();

  /** Registers one row of the file (unreadable rows too: their base id is their line number). */
  add(baseId: string, line: number): void {
    const seen = this.lines.get(baseId);
    if (seen === undefined) this.lines.set(baseId, line);
    else if (typeof seen === "number") this.lines.set(baseId, [seen, line]);
    else seen.push(line);
  }

  /** The key of a row, once every row is added. */
  keyOf(baseId: string, line: number): string {
    return typeof this.lines.get(baseId) === "object" ? `${baseId}@line${line}` : baseId;
  }

  duplicates(): DuplicateId[] {
    const out: DuplicateId[] = [];
    for (const [id, lines] of this.lines) if (typeof lines === "object") out.push({ id, lines });
    return out;
  }
}

/** What to tell the user about a file's shared ids; undefined when every record has its own. */
export function duplicateIdWarning(file: string, duplicates: readonly DuplicateId[]): string | undefined {
  if (duplicates.length === 0) return undefined;
  const rows = duplicates.reduce((n, d) => n + d.lines.length, 0);
  const shown = duplicates.slice(0, 3).map((d) => `"${d.id}" on lines ${d.lines.slice(0, 4).join(", ")}${d.lines.length > 4 ? ", …" : ""}`).join("; ");
  return `${file}: ${duplicates.length} id${duplicates.length > 1 ? "s are" : " is"} shared by several records (${rows} records: ${shown}${duplicates.length > 3 ? "; …" : ""}); their labels are keyed <id>@line<N> so that a label belongs to one record, and a label under the bare id is used for none of them`;
}

/** Labels that name a shared id without a line: they cannot be told apart, so they are not used. */
export function ambiguousLabelsWarning(labelsFile: string, store: LabelStore, duplicates: readonly DuplicateId[]): string | undefined {
  let count = 0;
  const ids: string[] = [];
  for (const { id } of duplicates) {
    const n = store.labelsOf(id).length;
    if (n > 0) {
      count += n;
      ids.push(`"${id}"`);
    }
  }
  if (count === 0) return undefined;
  return `${labelsFile}: ${count} label${count > 1 ? "s name" : " names"} ${ids.slice(0, 5).join(", ")}${ids.length > 5 ? ", …" : ""}, which several records share: not used (label those records again in critic view)`;
}

/** The label keys of a judgments file: one pass over its records (and the rows it cannot read). */
export async function labelKeysOfFile(file: string, options: Pick<ReadOptions, "format" | "map"> = {}): Promise<LabelKeys> {
  const keys = new LabelKeys();
  const rejected: number[] = [];
  for await (const { record, line } of readRecords(file, { ...options, onReject: (r) => rejected.push(r.line) })) {
    for (const l of rejected.splice(0)) keys.add(String(l - 1), l);
    keys.add(labelIdOf(record, line), line);
  }
  for (const l of rejected) keys.add(String(l - 1), l);
  return keys;
}

/**
 * Human labels: the JSONL file `critic view` appends to and `critic meta-eval --gold-file` and
 * `critic export --labels` read. One line per action, each the full state of one annotator's label
 * of one record after it:
 *
 *   {"id": "17", "score": 4, "annotator": "ana", "note": "too long", "at": "2026-12-03T10:00:00.000Z"}
 *   {"id": "18", "winner": "B", "annotator": "ana", "at": "..."}
 *   {"id": "17", "score": null, "annotator": "ana", "at": "..."}      <- undone: no label any more
 *
 * The last line for an (id, annotator) wins. `id` is the record's `id` field, else its 0-based line
 * number in the judgments file (see labelIdOf). Appending one line per action means a crash or a
 * closed tab loses nothing.
 */
import { closeSync, existsSync, fdatasyncSync, openSync, readSync, statSync, writeSync } from "node:fs";
import type { RawRecord } from "./types.js";

export type HumanVerdict = "A" | "B" | "tie";

export interface HumanLabel {
  id: string;
  annotator: string;
  score?: number;
  winner?: HumanVerdict;
  note?: string;
  at: string;
}

/** The id a label names a record by: its `id` field, else its 0-based line number. */
export function labelIdOf(record: RawRecord, line: number): string {
  const id = record.id;
  return typeof id === "string" || typeof id === "number" ? String(id) : String(line - 1);
}

/** A label that says something: a verdict or a note. */
export function hasVerdict(label: HumanLabel | undefined): label is HumanLabel & ({ score: number } | { winner: HumanVerdict }) {
  return label !== undefined && (label.score !== undefined || label.winner !== undefined);
}

/**
 * The labels of a file, kept current as other processes (other annotators) append to it:
 * `refresh()` reads only what was added since the last read.
 */
export class LabelStore {
  /** annotator -> id -> label */
  readonly byAnnotator = new Map<string, Map<string, HumanLabel>>();
  /** Lines that could not be read, with their line numbers. */
  readonly problems: Array<{ line: number; reason: string }> = [];
  private readOffset = 0;
  private lineNo = 0;
  private carry = "";
  /** Bumped whenever a label changes, so cached views that depend on labels can tell. */
  version = 0;

  constructor(readonly file: string) {
    this.refresh();
  }

  /** Reads lines appended since the last call. */
  refresh(): void {
    if (!existsSync(this.file)) return;
    const size = statSync(this.file).size;
    if (size < this.readOffset) {
      // The file was replaced or truncated: read it again from the start.
      this.byAnnotator.clear();
      this.readOffset = 0;
      this.lineNo = 0;
      this.carry = "";
    }
    if (size === this.readOffset) return;
    const fd = openSync(this.file, "r");
    try {
      const buffer = Buffer.alloc(size - this.readOffset);
      let read = 0;
      while (read < buffer.length) {
        const n = readSync(fd, buffer, read, buffer.length - read, this.readOffset + read);
        if (n === 0) break;
        read += n;
      }
      this.readOffset += read;
      const text = this.carry + buffer.subarray(0, read).toString("utf8");
      const lines = text.split("\n");
      this.carry = lines.pop() ?? "";
      for (const line of lines) this.apply(line, ++this.lineNo);
    } finally {
      closeSync(fd);
    }
  }

  private apply(text: string, line: number): void {
    if (text.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      this.problems.push({ line, reason: `invalid JSON: ${(error as Error).message}` });
      return;
    }
    const parsed = parseLabelLine(value);
    if (typeof parsed === "string") {
      this.problems.push({ line, reason: parsed });
      return;
    }
    this.set(parsed);
  }

  private set(label: HumanLabel): void {
    let labels = this.byAnnotator.get(label.annotator);
    if (!labels) this.byAnnotator.set(label.annotator, (labels = new Map()));
    if (label.score === undefined && label.winner === undefined && label.note === undefined) labels.delete(label.id);
    else labels.set(label.id, label);
    this.version++;
  }

  get(annotator: string, id: string): HumanLabel | undefined {
    return this.byAnnotator.get(annotator)?.get(id);
  }

  annotators(): string[] {
    return [...this.byAnnotator.keys()].sort();
  }

  /** Every annotator's label of one record. */
  labelsOf(id: string): HumanLabel[] {
    const out: HumanLabel[] = [];
    for (const labels of this.byAnnotator.values()) {
      const label = labels.get(id);
      if (label) out.push(label);
    }
    return out;
  }

  /**
   * Appends the new state of one label and syncs it to disk before returning. Pass no score,
   * winner or note to remove the label.
   */
  append(label: Omit<HumanLabel, "at"> & { at?: string }): HumanLabel {
    this.refresh();
    const full: HumanLabel = { ...label, at: label.at ?? new Date().toISOString() };
    const line = {
      id: full.id,
      ...(full.winner !== undefined ? { winner: full.winner } : { score: full.score ?? null }),
      annotator: full.annotator,
      ...(full.note !== undefined ? { note: full.note } : {}),
      at: full.at,
    };
    const fd = openSync(this.file, "a");
    try {
      writeSync(fd, `${JSON.stringify(line)}\n`);
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // Our own line is read back by the next refresh; applying it now keeps reads consistent at once.
    this.refresh();
    return full;
  }
}

/** A label line checked field by field; a string says what is wrong with it. */
export function parseLabelLine(value: unknown): HumanLabel | string {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return "expected a JSON object";
  const v = value as Record<string, unknown>;
  if (typeof v.id !== "string" && typeof v.id !== "number") return 'field "id" is missing (a string or a number)';
  if (typeof v.annotator !== "string" || v.annotator === "") return 'field "annotator" is missing';
  const label: HumanLabel = { id: String(v.id), annotator: v.annotator, at: typeof v.at === "string" ? v.at : "" };
  if (v.score !== undefined && v.score !== null) {
    const score = typeof v.score === "string" ? Number(v.score) : v.score;
    if (typeof score !== "number" || !Number.isFinite(score)) return `field "score" is not a number: ${JSON.stringify(v.score)}`;
    label.score = score;
  }
  if (v.winner !== undefined && v.winner !== null) {
    if (v.winner !== "A" && v.winner !== "B" && v.winner !== "tie") return `field "winner" must be "A", "B" or "tie", got ${JSON.stringify(v.winner)}`;
    label.winner = v.winner;
  }
  if (typeof v.note === "string" && v.note !== "") label.note = v.note;
  return label;
}

/**
 * Reads a labels file for meta-eval and export: every annotator's current labels. Bad lines throw
 * with the file and line, since gold labels that silently vanish would skew every metric.
 */
export function readLabelsFile(file: string): LabelStore {
  if (!existsSync(file)) throw new Error(`labels file not found: ${file}`);
  const store = new LabelStore(file);
  const problem = store.problems[0];
  if (problem) throw new Error(`${file}:${problem.line}: ${problem.reason}`);
  return store;
}

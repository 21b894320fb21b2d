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
 * number in the judgments file (see labelIdOf; records that share one are keyed by line, see
 * label-keys.ts). Appending one line per action means a crash or a closed tab loses nothing; a line
 * cut by a crash is skipped with a warning, and the next label starts on a new line.
 */
import { closeSync, existsSync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readSync, statSync, writeSync } from "node:fs";
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
  /** Lines that could not be read, with their line numbers; `damaged`: not JSON (cut by a crash, say). */
  readonly problems: Array<{ line: number; reason: string; damaged?: boolean }> = [];
  private readOffset = 0;
  private lineNo = 0;
  /** Lines read so far (whole ones: ending in a newline). */
  get lineCount(): number {
    return this.lineNo;
  }
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
      this.problems.push({ line, reason: `not JSON (a line cut by a crash?): ${(error as Error).message}`, damaged: true });
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

  /** The last line when it has no newline yet: cut by a crash, or another process's line in flight. */
  get unterminated(): string {
    return this.carry;
  }

  /**
   * Appends the new state of one label and syncs it to disk before returning; throws (and leaves
   * no part of the line behind) when the line is not on disk whole. Pass no score, winner or note
   * to remove the label. A file whose last line has no newline (cut by a crash) gets one first, so
   * the cut line stays one damaged line and the new label a whole one.
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
    const fd = openSync(this.file, "a+");
    try {
      const before = fstatSync(fd).size;
      const last = Buffer.alloc(1);
      const cut = before > 0 && readSync(fd, last, 0, 1, before - 1) === 1 && last[0] !== 10;
      const bytes = Buffer.from(`${cut ? "\n" : ""}${JSON.stringify(line)}\n`, "utf8");
      let written = 0;
      try {
        while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
        fdatasyncSync(fd);
      } catch (error) {
        // Take the partial line back, unless another process has appended since.
        let removed = false;
        try {
          if (fstatSync(fd).size === before + written) {
            ftruncateSync(fd, before);
            fdatasyncSync(fd);
            removed = true;
          }
        } catch {
          // reported below
        }
        throw new Error(`wrote ${written} of ${bytes.length} bytes (${(error as Error).message}); the label is not saved${written > 0 ? (removed ? " and the partial line was removed" : "; a partial line may remain") : ""}`);
      }
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
 * Reads a labels file for meta-eval and export: every annotator's current labels. A line that is
 * not JSON (cut by a crash) is skipped (labelFileWarnings says which); a JSON line with a wrong field
 * throws with the file and line, since it is not damage but a mistake worth fixing.
 */
export function readLabelsFile(file: string): LabelStore {
  if (!existsSync(file)) throw new Error(`labels file not found: ${file}`);
  const store = new LabelStore(file);
  const wrong = store.problems.find((p) => !p.damaged);
  if (wrong) throw new Error(`${file}:${wrong.line}: ${wrong.reason}`);
  return store;
}

/** The damaged lines of a labels file, in one warning (a cut last line included). */
export function labelFileWarnings(store: LabelStore): string[] {
  const damaged = store.problems.filter((p) => p.damaged).map((p) => p.line);
  const cut = store.unterminated.trim() !== "";
  if (cut) damaged.push(store.lineCount + 1);
  if (damaged.length === 0) return [];
  return [`${store.file}: ${damaged.length} damaged line${damaged.length > 1 ? "s" : ""} skipped (not JSON, e.g. cut by a crash): line${damaged.length > 1 ? "s" : ""} ${damaged.slice(0, 5).join(", ")}${damaged.length > 5 ? ", …" : ""}`];
}

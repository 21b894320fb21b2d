/**
 * The index `critic view` builds of a judgments file: one streaming pass that keeps, per row, where
 * the row's line starts in the file and the few values the table filters and sorts on (score,
 * winner, failed, the judge's uncertainty, small-vocabulary fields), in typed arrays. The records
 * themselves stay on disk and are read a page at a time, so memory grows by tens of bytes per row,
 * not by the size of the file.
 *
 * JSONL is indexed in place. CSV, JSON and Parquet are first streamed into a JSONL copy in a temp
 * folder (one pass, flat memory for CSV and Parquet) so that every format is served the same way.
 */
import { closeSync, createWriteStream, mkdtempSync, openSync, readSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { once } from "node:events";
import { isUtf8 } from "node:buffer";
import { byteLines, checkInputFile, fileChunks, formatFromPath, readRecords } from "../records/read.js";
import { labelIdOf } from "../records/labels.js";
import { LabelKeys, type DuplicateId } from "../records/label-keys.js";
import type { RawRecord } from "../records/types.js";

export const WINNERS = ["", "A", "B", "tie"] as const;
const WINNER_CODE: Record<string, number> = { A: 1, B: 2, tie: 3 };

/**
 * Fields with at most this many distinct values are kept for filtering (task, model, category...),
 * and only when their values repeat: at most half as many values as rows with the field (free text,
 * ids and measurements have about one value per row). Fields with fractional numbers are left out.
 */
const MAX_CATEGORIES = 64;
const MAX_CATEGORY_LENGTH = 80;

/** A growable typed array. */
class Column<T extends Float64Array | Float32Array | Uint32Array | Uint8Array> {
  data: T;
  constructor(private readonly make: (n: number) => T, fill?: number) {
    this.data = make(1024);
    if (fill !== undefined) this.data.fill(fill);
    this.fill = fill;
  }
  private readonly fill: number | undefined;
  set(i: number, value: number): void {
    if (i >= this.data.length) {
      const bigger = this.make(Math.max(this.data.length * 2, i + 1));
      if (this.fill !== undefined) bigger.fill(this.fill);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[i] = value;
  }
  trim(n: number): T {
    return this.data.subarray(0, n) as T;
  }
}

export interface CategoryField {
  name: string;
  values: string[];
  /** Per row: 1 + the index of its value in `values`, 0 when the row has none. */
  codes: Uint8Array;
}

export interface JudgmentIndex {
  file: string;
  /** The file rows are read from: the input itself, or its JSONL copy. */
  jsonl: string;
  rows: number;
  mode: "absolute" | "pairwise";
  offsets: Float64Array;
  lengths: Uint32Array;
  /** 1-based line (JSONL, CSV) or row number (Parquet) in the input. */
  lines: Uint32Array;
  /** NaN: no score. */
  scores: Float64Array;
  /** 0 none, 1 A, 2 B, 3 tie. */
  winners: Uint8Array;
  /** 1: the judgment failed (an error field) or its line could not be read. */
  failed: Uint8Array;
  /** 1 - the probability the judge's distribution gives its own verdict; NaN without a distribution. */
  uncertainty: Float32Array;
  /** The label key of each row: its `id` field, else its 0-based line number; `<id>@line<N>` where records share one (see label-keys.ts). */
  ids: string[];
  /** Ids that several records share (each such record is keyed by its line). */
  duplicates: DuplicateId[];
  /** The file as it was when indexed: a change means it was replaced or rewritten. */
  stamp: FileStamp;
  /** Row of each id. */
  rowOfId: Map<string, number>;
  /** Whether records have their own `id` field (several files are then lined up by it, else by row). */
  hasIds: boolean;
  categories: CategoryField[];
  /** Fields seen in the first records, for the field filter. */
  fields: string[];
  /** Distinct scores seen, ascending. */
  seenScores: number[];
  /** The templates the judgments record (`judge.template`), in order of first use. */
  templates: string[];
  /** Numeric keys of the score distributions, ascending. */
  distributionScores: number[];
  /** Rows whose line was not JSON (shown as failed with the reason). */
  unreadable: number;
  hasDistribution: boolean;
  dispose(): void;
}

export interface FileStamp {
  size: number;
  mtimeMs: number;
  ino: number;
}

export function fileStamp(file: string): FileStamp {
  const info = statSync(file);
  return { size: info.size, mtimeMs: info.mtimeMs, ino: info.ino };
}

export function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

/** Builds the index of a judgments file (.jsonl, .json, .csv, .tsv, .parquet, optionally .gz). */
export async function indexJudgments(file: string): Promise<JudgmentIndex> {
  await checkInputFile(file);
  const stamp = fileStamp(file);
  const keys = new LabelKeys();
  const format = formatFromPath(file);
  let jsonl = file;
  let tempDir: string | undefined;
  let lineNumbers: Column<Uint32Array> | undefined;
  if (format !== "jsonl" || file.toLowerCase().endsWith(".gz")) {
    tempDir = mkdtempSync(path.join(tmpdir(), "critic-view-"));
    jsonl = path.join(tempDir, `${path.basename(file)}.jsonl`);
    lineNumbers = new Column((n) => new Uint32Array(n));
    const out = createWriteStream(jsonl);
    let i = 0;
    for await (const { line, record } of readRecords(file, { onReject: (r) => keys.add(String(r.line - 1), r.line) })) {
      lineNumbers.set(i++, line);
      if (!out.write(`${JSON.stringify(record)}\n`)) await once(out, "drain");
    }
    out.end();
    await once(out, "finish");
  }

  const offsets = new Column((n) => new Float64Array(n));
  const lengths = new Column((n) => new Uint32Array(n));
  const lines = new Column((n) => new Uint32Array(n));
  const scores = new Column((n) => new Float64Array(n), NaN);
  const winners = new Column((n) => new Uint8Array(n));
  const failed = new Column((n) => new Uint8Array(n));
  const uncertainty = new Column((n) => new Float32Array(n), NaN);
  const ids: string[] = [];
  const rowOfId = new Map<string, number>();
  const categories = new Map<string, { values: Map<string, number>; codes: Column<Uint8Array> } | null>();
  const fields = new Set<string>();
  const seenScores = new Set<number>();
  const templates = new Set<string>();
  const distributionScores = new Set<number>();
  let rows = 0;
  let unreadable = 0;
  let pairwise = false;
  let hasIds = false;
  let hasDistribution = false;

  for await (const { line: physical, offset, bytes } of byteLines(fileChunks(jsonl, () => {}))) {
    let text = isUtf8(bytes) ? bytes.toString("utf8") : "";
    if (physical === 1 && text.startsWith("\uFEFF")) text = text.slice(1);
    if (text.trim() === "" && isUtf8(bytes)) continue;
    const row = rows++;
    const line = lineNumbers ? lineNumbers.data[row] ?? physical : physical;
    offsets.set(row, offset);
    lengths.set(row, bytes.length);
    lines.set(row, line);
    let record: RawRecord | undefined;
    try {
      const value: unknown = JSON.parse(text);
      if (value && typeof value === "object" && !Array.isArray(value)) record = value as RawRecord;
    } catch {
      // counted below
    }
    if (!record) {
      unreadable++;
      failed.set(row, 1);
      const id = String(line - 1);
      ids.push(id);
      keys.add(id, line);
      continue;
    }
    if (row < 200) for (const key of Object.keys(record)) fields.add(key);
    const id = labelIdOf(record, line);
    if (typeof record.id === "string" || typeof record.id === "number") hasIds = true;
    ids.push(id);
    keys.add(id, line);
    const template = (record.judge as { template?: unknown } | undefined)?.template;
    if (typeof template === "string" && templates.size < 16) templates.add(template);

    const score = typeof record.score === "number" ? record.score : typeof record.score === "string" && record.score.trim() !== "" ? Number(record.score) : NaN;
    if (Number.isFinite(score)) {
      scores.set(row, score);
      if (seenScores.size < 200) seenScores.add(score);
    }
    if ("winner" in record) pairwise = true;
    const winner = typeof record.winner === "string" ? WINNER_CODE[record.winner] : undefined;
    if (winner) winners.set(row, winner);
    if (typeof record.error === "string" && record.error !== "") failed.set(row, 1);
    const distribution = (record.score_distribution ?? record.winner_distribution) as Record<string, number> | undefined;
    if (distribution && typeof distribution === "object" && record.score_distribution === distribution && distributionScores.size < 200) {
      for (const key of Object.keys(distribution)) if (key.trim() !== "" && Number.isFinite(Number(key))) distributionScores.add(Number(key));
    }
    if (distribution && typeof distribution === "object") {
      const own = winner ? distribution[WINNERS[winner] as string] : Number.isFinite(score) ? distribution[String(score)] : undefined;
      const top = typeof own === "number" ? own : Math.max(...Object.values(distribution).filter((v) => typeof v === "number"));
      if (Number.isFinite(top)) {
        uncertainty.set(row, 1 - top);
        hasDistribution = true;
      }
    }
    for (const [key, value] of Object.entries(record)) {
      if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") continue;
      const existing = categories.get(key);
      if (existing === null) continue;
      if (typeof value === "number" && !Number.isInteger(value)) {
        categories.set(key, null);
        continue;
      }
      const text = String(value);
      if (text.length > MAX_CATEGORY_LENGTH) {
        categories.set(key, null);
        continue;
      }
      const field = existing ?? { values: new Map<string, number>(), codes: new Column((n) => new Uint8Array(n)) };
      if (!existing) categories.set(key, field);
      let code = field.values.get(text);
      if (code === undefined) {
        if (field.values.size >= MAX_CATEGORIES) {
          categories.set(key, null);
          continue;
        }
        code = field.values.size + 1;
        field.values.set(text, code);
      }
      field.codes.set(row, code);
    }
  }

  // Rows that share an id are keyed by line, so that a label belongs to one record.
  const duplicates = keys.duplicates();
  if (duplicates.length > 0) for (let row = 0; row < rows; row++) ids[row] = keys.keyOf(ids[row] as string, lines.data[row] as number);
  for (let row = 0; row < rows; row++) rowOfId.set(ids[row] as string, row);

  const keptCategories: CategoryField[] = [];
  for (const [name, field] of categories) {
    // A field with one value per row (ids, texts) tells nothing; one with a single value neither.
    if (!field || name === "id" || name === "score" || name === "winner" || field.values.size < 2) continue;
    let withValue = 0;
    for (let row = 0; row < rows; row++) if (field.codes.data[row]) withValue++;
    if (field.values.size > Math.max(2, withValue / 2)) continue;
    const codes = field.codes.trim(rows);
    const full = new Uint8Array(rows);
    full.set(codes.subarray(0, Math.min(codes.length, rows)));
    keptCategories.push({ name, values: [...field.values.keys()], codes: full });
  }

  return {
    file,
    jsonl,
    rows,
    mode: pairwise ? "pairwise" : "absolute",
    offsets: offsets.trim(rows),
    lengths: lengths.trim(rows),
    lines: lines.trim(rows),
    scores: scores.trim(rows),
    winners: winners.trim(rows),
    failed: failed.trim(rows),
    uncertainty: uncertainty.trim(rows),
    ids,
    duplicates,
    stamp,
    rowOfId,
    hasIds,
    categories: keptCategories,
    fields: [...fields],
    seenScores: [...seenScores].sort((a, b) => a - b),
    templates: [...templates],
    distributionScores: [...distributionScores].sort((a, b) => a - b),
    unreadable,
    hasDistribution,
    dispose() {
      if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    },
  };
}

/** Reads rows' records from the file (a page at a time: one positional read per row). */
export function readRows(index: JudgmentIndex, rows: ArrayLike<number>): Array<RawRecord | { unreadable: string }> {
  const fd = openSync(index.jsonl, "r");
  try {
    const out: Array<RawRecord | { unreadable: string }> = [];
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as number;
      const length = index.lengths[row] as number;
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, index.offsets[row] as number);
      let text = buffer.toString("utf8");
      if (text.startsWith("\uFEFF")) text = text.slice(1);
      try {
        const value: unknown = JSON.parse(text);
        out.push(value && typeof value === "object" && !Array.isArray(value) ? (value as RawRecord) : { unreadable: text });
      } catch {
        out.push({ unreadable: text });
      }
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/**
 * The rows whose raw line contains `query`, case-insensitively (ASCII letters): the file is read
 * once in large chunks and searched as bytes, never parsed.
 */
export async function searchRows(index: JudgmentIndex, query: string): Promise<Uint8Array> {
  const hits = new Uint8Array(index.rows);
  const needle = lowerAscii(Buffer.from(JSON.stringify(query).slice(1, -1), "utf8"));
  if (needle.length === 0 || index.rows === 0) return hits.fill(1);
  let row = 0;
  let consumed = 0;
  let carry = Buffer.alloc(0);
  for await (const chunk of fileChunks(index.jsonl, () => {})) {
    const data = lowerAscii(carry.length ? Buffer.concat([carry, chunk]) : Buffer.from(chunk));
    const base = consumed - carry.length;
    let at = data.indexOf(needle);
    while (at !== -1) {
      const position = base + at;
      while (row + 1 < index.rows && (index.offsets[row + 1] as number) <= position) row++;
      hits[row] = 1;
      // Skip to the next row: one hit per row is enough.
      const next = row + 1 < index.rows ? (index.offsets[row + 1] as number) - base : data.length;
      at = next < data.length ? data.indexOf(needle, next) : -1;
    }
    consumed += chunk.length;
    const keep = Math.min(needle.length - 1, data.length);
    carry = Buffer.from(data.subarray(data.length - keep));
  }
  return hits;
}

function lowerAscii(buffer: Buffer): Buffer {
  for (let i = 0; i < buffer.length; i++) {
    const c = buffer[i] as number;
    if (c >= 65 && c <= 90) buffer[i] = c + 32;
  }
  return buffer;
}

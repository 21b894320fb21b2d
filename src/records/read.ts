import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { createGunzip, gunzipSync } from "node:zlib";
import { parse as parseCsv } from "csv-parse";
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import type { RawRecord, Reject, SourcedRecord } from "./types.js";

export type RecordFormat = "jsonl" | "json" | "csv" | "tsv" | "parquet";

export interface ReadOptions {
  /** Default: from the extension (.jsonl/.ndjson, .json, .csv, .tsv, .parquet; a trailing .gz is decompressed). */
  format?: RecordFormat;
  /** Field renames, new name -> old name; the old name is removed. */
  map?: Record<string, string>;
  /** Rows that cannot be read (bad JSON, wrong column count) go here and reading goes on. */
  onReject?: (reject: Reject) => void;
}

export function formatFromPath(file: string): RecordFormat {
  const name = file.toLowerCase().replace(/\.gz$/, "");
  if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) return "jsonl";
  if (name.endsWith(".json")) return "json";
  if (name.endsWith(".csv")) return "csv";
  if (name.endsWith(".tsv")) return "tsv";
  if (name.endsWith(".parquet")) return "parquet";
  throw new Error(`${file}: unknown dataset format; use .jsonl, .json, .csv, .tsv or .parquet (optionally .gz)`);
}

/**
 * Streams the rows of a dataset with their line numbers (JSONL, CSV) or 1-based row/element
 * numbers (Parquet, JSON). Memory stays flat for JSONL, CSV and Parquet (row group by row group);
 * a JSON document is read whole.
 */
export async function* readRecords(file: string, options: ReadOptions = {}): AsyncGenerator<SourcedRecord> {
  const format = options.format ?? formatFromPath(file);
  const onReject = options.onReject ?? (() => {});
  const rows =
    format === "jsonl" ? readJsonl(file, onReject)
    : format === "json" ? readJson(file, onReject)
    : format === "parquet" ? readParquet(file)
    : readCsv(file, format === "tsv" ? "\t" : ",", onReject);
  let index = 0;
  for await (const { line, record } of rows) {
    yield { index: index++, line, record: options.map ? applyFieldMap(record, options.map) : record };
  }
}

/** Parses CLI `--map new=old` pairs. */
export function parseFieldMap(pairs: string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const pair of pairs) {
    const match = /^([^=\s]+)=([^=\s]+)$/.exec(pair.trim());
    if (!match) throw new Error(`--map expects new=old (e.g. instruction=orig_instruction), got "${pair}"`);
    map[match[1]!] = match[2]!;
  }
  return map;
}

export function applyFieldMap(record: RawRecord, map: Record<string, string>): RawRecord {
  const out: RawRecord = { ...record };
  for (const [target, source] of Object.entries(map)) {
    if (source in record) {
      delete out[source];
      out[target] = record[source];
    }
  }
  return out;
}

function openText(file: string): Readable {
  const stream = createReadStream(file);
  return file.toLowerCase().endsWith(".gz") ? stream.pipe(createGunzip()) : stream;
}

interface NumberedRow {
  line: number;
  record: RawRecord;
}

async function* readJsonl(file: string, onReject: (r: Reject) => void): AsyncGenerator<NumberedRow> {
  const lines = createInterface({ input: openText(file), crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      onReject({ file, line, reason: `invalid JSON: ${(error as Error).message}` });
      continue;
    }
    if (!isObject(value)) {
      onReject({ file, line, reason: `expected a JSON object, got ${describe(value)}` });
      continue;
    }
    yield { line, record: value };
  }
}

async function* readJson(file: string, onReject: (r: Reject) => void): AsyncGenerator<NumberedRow> {
  const raw = await readFile(file);
  const text = file.toLowerCase().endsWith(".gz") ? gunzipSync(raw) : raw;
  let document: unknown;
  try {
    document = JSON.parse(text.toString("utf8"));
  } catch (error) {
    throw new Error(`${file}: invalid JSON: ${(error as Error).message}`);
  }
  // An array of records, or an object of records keyed by id.
  const entries: Array<[string | undefined, unknown]> = Array.isArray(document)
    ? document.map((value) => [undefined, value])
    : isObject(document) ? Object.entries(document) : [];
  if (entries.length === 0 && !Array.isArray(document)) {
    throw new Error(`${file}: expected a JSON array of records or an object of records keyed by id`);
  }
  let element = 0;
  for (const [key, value] of entries) {
    element++;
    if (!isObject(value)) {
      onReject({ file, line: element, reason: `element ${element}: expected a JSON object, got ${describe(value)}` });
      continue;
    }
    yield { line: element, record: key !== undefined && !("id" in value) ? { id: key, ...value } : value };
  }
}

async function* readCsv(file: string, delimiter: string, onReject: (r: Reject) => void): AsyncGenerator<NumberedRow> {
  const parser = openText(file).pipe(
    parseCsv({ delimiter, bom: true, relax_column_count: true, skip_empty_lines: true, info: true }),
  );
  let header: string[] | undefined;
  let lastLine = 0;
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    const line = lastLine + 1;
    lastLine = info.lines;
    if (!header) {
      header = record.map((name, i) => (name === "" ? `column_${i}` : name));
      continue;
    }
    if (record.length !== header.length) {
      onReject({ file, line, reason: `expected ${header.length} columns (as in the header), got ${record.length}` });
      continue;
    }
    const row: RawRecord = {};
    header.forEach((name, i) => (row[name] = record[i]));
    yield { line, record: row };
  }
}

async function* readParquet(file: string): AsyncGenerator<NumberedRow> {
  const buffer = await asyncBufferFromFile(file);
  const metadata = await parquetMetadataAsync(buffer);
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    const rows = (await parquetReadObjects({ file: buffer, metadata, rowStart, rowEnd })) as RawRecord[];
    for (const [i, row] of rows.entries()) yield { line: rowStart + i + 1, record: normaliseParquetRow(row) };
    rowStart = rowEnd;
  }
}

function normaliseParquetRow(row: RawRecord): RawRecord {
  for (const [key, value] of Object.entries(row)) {
    if (typeof value === "bigint" && value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)) {
      row[key] = Number(value);
    }
  }
  return row;
}

function isObject(value: unknown): value is RawRecord {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function describe(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
}
